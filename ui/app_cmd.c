/* What Enter does: text goes to the open conversation; a line starting
 * with '/' is a command from the one command table (cmd.h), parsed with
 * cmd_parse_line() so /help, completion and the parser agree. "//" sends
 * a message that starts with a slash. */
#include "config.h"

#include "ui/app.h"

#include "cmd.h"
#include "jsonrpc.h"
#include "util/sanitize.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
app_cmd_help(struct app *a, const char *name)
{
	const struct cmd_entry *const *cep;
	const struct cmd_entry *ce;
	char *text, *usage, *all, *next;

	if (name != NULL) {
		if (name[0] == '/')
			name++;
		ce = cmd_find(name, CMD_UI);
		if (ce == NULL || (ce->where & CMD_HIDDEN)) {
			app_notice(a, "There is no command /%s; /help lists them.", name);
			return;
		}
		text = cmd_help_text(ce, CMD_UI);
		app_notice(a, "%s", text);
		free(text);
		return;
	}
	all = xstrdup("Commands (/help COMMAND tells more):");
	for (cep = cmd_table; *cep != NULL; cep++) {
		ce = *cep;
		if (!(ce->where & CMD_UI) || (ce->where & CMD_HIDDEN))
			continue;
		usage = cmd_help_usage(ce, CMD_UI);
		next = xasprintf("%s\n%s: %s", all, usage, ce->summary);
		free(usage);
		free(all);
		all = next;
	}
	app_notice(a,
	           "%s\nKeys: Enter sends, Alt-Enter starts a new line, Tab completes, "
	           "Alt-1..9 / Ctrl-N / Ctrl-P switch windows (Alt-0: status), PgUp/PgDn "
	           "scroll, Ctrl-G jumps to the next /search result, Ctrl-X Ctrl-E edits in "
	           "$EDITOR, Ctrl-C clears the line or quits.",
	           all);
	free(all);
}

static void
app_cmd_safety(struct app *a, const char *name)
{
	struct client_rpc_error re;
	const char *groups, *digits, *p;
	char *who = sanitize_str(name, 0), *rows = xstrdup(""), *next;
	json_t *res;
	int n = 0;

	if (app_call(a, "safety", json_pack("{s:s}", "name", name), &res, NULL) != 0) {
		free(who);
		free(rows);
		(void)re;
		return;
	}
	groups = json_string_value(json_object_get(res, "groups"));
	digits = json_string_value(json_object_get(res, "digits"));
	/* Four groups a row: fits 80 columns and reads like a card. */
	for (p = groups != NULL ? groups : ""; *p != '\0';) {
		size_t len = strcspn(p, " ");
		next = xasprintf("%s%s%.*s", rows, n % 4 == 0 ? "\n    " : " ", (int)len, p);
		free(rows);
		rows = next;
		n++;
		p += len;
		while (*p == ' ')
			p++;
	}
	app_notice(a,
	           "Safety number with %s (%s):%s\nCompare it with %s in person or on a call. "
	           "If it matches: /trust %s --verified %s",
	           who,
	           json_is_true(json_object_get(res, "verified")) ? "verified" : "not verified",
	           rows, who, who, digits != NULL ? digits : "DIGITS");
	json_decref(res);
	free(rows);
	free(who);
}

static void
app_cmd_trust(struct app *a, const struct cmd_args *args)
{
	struct client_rpc_error re;
	const char *name = cmd_args_get(args, "NAME");
	char *who = sanitize_str(name, 0);
	json_t *params, *res;
	struct err e;

	params = cmd_params_from_args(args, NULL, &e);
	if (params == NULL) {
		app_notice(a, "/trust: %s", e.msg);
		free(who);
		return;
	}
	if (app_call(a, "trust", params, &res, &re) != 0) {
		if (re.code == JSONRPC_INVALID_PARAMS || re.code == JSONRPC_INVALID_DATA)
			app_notice(a, "%s is not marked verified: %s", who, re.message);
		else
			app_notice(a, "trust: %s", re.message);
		free(who);
		return;
	}
	app_notice(a, "%s's current key is accepted%s.", who,
	           json_is_true(json_object_get(res, "verified")) ? " and verified" : "");
	json_decref(res);
	free(who);
	app_load_contacts(a);
	a->dirty |= APP_DIRTY_TITLE | APP_DIRTY_STATUS;
}

/* The engine asks the relay (and gives up after a few seconds), so the
 * wait is short; only a name the relay knows gets a window. */
static void
app_cmd_add(struct app *a, const char *name)
{
	struct client_rpc_error re;
	char *who = sanitize_str(name, 0);
	json_t *res;

	if (app_call(a, "contacts.add", json_pack("{s:s}", "name", name), &res, &re) != 0) {
		if (re.code == JSONRPC_NOT_FOUND)
			app_notice(a, "There is no account %s on the relay: nothing was added.",
			           who);
		else
			app_notice(a, "/add %s: %s", who, re.message);
		free(who);
		return;
	}
	app_open(a, 0, name);
	app_notice(a, "%s %s. /safety %s shows the safety number to compare.", who,
	           json_is_true(json_object_get(res, "added")) ? "is now a contact"
	                                                       : "is a contact already",
	           who);
	json_decref(res);
	free(who);
	app_load_contacts(a);
}

static void
app_cmd_contacts(struct app *a)
{
	char *all = xstrdup("Contacts:"), *next, *name;
	size_t i;

	app_load_contacts(a);
	for (i = 0; i < a->list.ncontacts; i++) {
		const struct convlist_contact *c = &a->list.contacts[i];
		name = sanitize_str(c->name, 0);
		next = xasprintf("%s\n  %-20s %s%s", all, name,
		                 c->verified ? "verified" : "not verified",
		                 c->identity_changed ? ", SAFETY NUMBER CHANGED" : "");
		free(name);
		free(all);
		all = next;
	}
	if (a->list.ncontacts == 0)
		app_notice(a, "No contacts yet: /msg NAME starts a conversation.");
	else
		app_notice(a, "%s", all);
	free(all);
}

/* A table command with a method and no special handling here: call it
 * and show the answer. */
static void
app_cmd_generic(struct app *a, const struct cmd_args *args)
{
	const struct cmd_entry *ce = args->entry;
	json_t *params, *res;
	struct err e;
	char *text;

	if (ce->method == NULL) {
		app_notice(a, "/%s cannot be used in the interface.", ce->name);
		return;
	}
	params = cmd_params_from_args(args, NULL, &e);
	if (params == NULL) {
		app_notice(a, "/%s: %s", ce->name, e.msg);
		return;
	}
	if (app_call(a, ce->method, params, &res, NULL) != 0)
		return;
	text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	app_notice(a, "%s: %s", ce->name, text != NULL ? text : "(no answer)");
	free(text);
	json_decref(res);
}

static int
app_cmd_parse(struct app *a, const char *line, struct cmd_args *args)
{
	struct err e;
	char *with_peer;
	const char *word = line + 1;
	size_t wl = strcspn(word, " \t");
	const struct cmd_entry *ce;
	char name[64];
	int r;

	if (cmd_parse_line(line, CMD_UI, args, &e) == 0)
		return 0;
	snprintf(name, sizeof name, "%.*s", (int)(wl < 60 ? wl : 60), word);
	ce = cmd_find(name, CMD_UI);
	if (ce == NULL) {
		char *clean = sanitize_str(name, 0);
		app_notice(a,
		           "Unknown command /%s: nothing was sent. /help lists the commands "
		           "(start a message with // to send a leading slash).",
		           clean);
		free(clean);
		return -1;
	}
	/* /safety and /trust name the open conversation's peer by default. */
	if (strstr(e.msg, "missing NAME") != NULL && a->cur != a->system && a->cur != NULL &&
	    a->cur->peer[0] != '\0') {
		with_peer = xasprintf("%s %s", line, a->cur->peer);
		r = cmd_parse_line(with_peer, CMD_UI, args, &e);
		free(with_peer);
		if (r == 0)
			return 0;
	}
	{
		char *usage = cmd_help_usage(ce, CMD_UI);
		app_notice(a, "%s (usage: %s)", e.msg, usage);
		free(usage);
	}
	return -1;
}

static void
app_command(struct app *a, const char *line)
{
	struct cmd_args args;
	const struct cmd_entry *ce;
	char *text;

	if (app_cmd_parse(a, line, &args) < 0)
		return;
	ce = args.entry;
	if (args.help) {
		text = cmd_help_text(ce, CMD_UI);
		app_notice(a, "%s", text);
		free(text);
	} else if (ce == &cmd_ui_quit_entry) {
		a->quit = true;
	} else if (ce == &cmd_info_help_entry) {
		app_cmd_help(a, cmd_args_get(&args, "COMMAND"));
	} else if (ce == &cmd_info_version_entry) {
		app_notice(a, "sotto %s", PACKAGE_VERSION);
	} else if (ce == &cmd_ui_msg_entry) {
		const char *name = cmd_args_get(&args, "NAME");
		app_open(a, 0, name);
		if (cmd_args_get(&args, "TEXT") != NULL)
			app_send(a, name, cmd_args_get(&args, "TEXT"));
	} else if (ce == &cmd_contact_add_entry) {
		app_cmd_add(a, cmd_args_get(&args, "NAME"));
	} else if (ce == &cmd_ui_close_entry) {
		app_close_current(a);
	} else if (ce == &cmd_ui_search_entry) {
		app_search(a, cmd_args_get(&args, "TEXT"));
	} else if (ce == &cmd_contact_safety_entry) {
		app_cmd_safety(a, cmd_args_get(&args, "NAME"));
	} else if (ce == &cmd_contact_trust_entry) {
		app_cmd_trust(a, &args);
	} else if (ce == &cmd_contact_contacts_entry) {
		app_cmd_contacts(a);
	} else {
		app_cmd_generic(a, &args);
	}
	cmd_args_clear(&args);
	a->dirty |= APP_DIRTY_MSGS;
}

void
app_cmd_submit(struct app *a, const char *line)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0')
		return;
	if (line[0] == '/' && line[1] != '/') {
		app_command(a, line);
		return;
	}
	if (line[0] == '/')
		line++; /* "//text" sends "/text" */
	if (a->cur == a->system || a->cur == NULL) {
		app_notice(a, "This is the status window: open a conversation with /msg NAME (or "
		              "Alt-1..9) to send messages.");
		if (a->ed.len == 0)
			editor_set(&a->ed, line);
		return;
	}
	app_send(a, a->cur->peer, line);
}
