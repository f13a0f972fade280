/* The command table and everything derived from it at run time: lookup,
 * completion, parsing of command lines and UI lines, JSON-RPC parameter
 * building and checking, exit statuses and CLI dispatch. */
#include "config.h"

#include "cmd.h"
#include "jsonrpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_entry *const cmd_table[] = {
    &cmd_account_register_entry,
    &cmd_message_send_entry,
    &cmd_message_recv_entry,
    &cmd_message_history_entry,
    &cmd_contact_contacts_entry,
    &cmd_contact_add_entry,
    &cmd_contact_safety_entry,
    &cmd_contact_trust_entry,
    &cmd_engine_rpc_entry,
    &cmd_engine_daemon_entry,
    &cmd_demo_entry,
    &cmd_info_help_entry,
    &cmd_info_version_entry,
    &cmd_engine_engine_entry,
    &cmd_ui_msg_entry,
    &cmd_ui_close_entry,
    &cmd_ui_search_entry,
    &cmd_ui_quit_entry,
    &cmd_account_unlock_entry,
    &cmd_account_status_entry,
    &cmd_engine_info_entry,
    &cmd_engine_subscribe_entry,
    &cmd_engine_persist_entry,
    &cmd_engine_shutdown_entry,
    NULL,
};

const struct cmd_arg cmd_global_options[] = {
    {"home", CMD_T_PATH, "DIR", 0,
     "use DIR as the profile directory (default: $XDG_DATA_HOME/sotto/PROFILE, "
     "else ~/.local/share/sotto/PROFILE)"},
    {"profile", CMD_T_STRING, "NAME", 0, "use the profile called NAME (default: default)"},
    {"passphrase-file", CMD_T_PATH, "FILE", 0,
     "read the passphrase that unlocks the profile from FILE, which only its owner "
     "may read"},
    {"help", CMD_T_FLAG, NULL, 0, "show help and exit"},
    {"version", CMD_T_FLAG, NULL, 0, "show the version and exit"},
    {"man-commands", CMD_T_FLAG, NULL, 0,
     "print the COMMANDS section of sotto(1) in roff and exit"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_exit_info cmd_exit_table[] = {
    {CMD_EXIT_OK, "success"},
    {CMD_EXIT_UNTRUSTED,
     "a contact's identity key changed and is not trusted yet; compare safety numbers "
     "and use trust"},
    {CMD_EXIT_USAGE, "the command line was wrong"},
    {CMD_EXIT_DATA, "invalid input: a malformed message, name or file; a safety number that "
                    "does not match (trust --verified); a profile registered already"},
    {CMD_EXIT_NOTFOUND, "no such contact, message, file or profile"},
    {CMD_EXIT_UNAVAILABLE, "the feature is not available in this build, or not yet"},
    {CMD_EXIT_SOFTWARE, "an internal error (a bug: please report it)"},
    {CMD_EXIT_TEMPFAIL, "the relay or the engine could not be reached; try again later"},
    {CMD_EXIT_AUTH, "wrong or missing passphrase, refused authentication, a relay certificate "
                    "that is not trusted, or unsafe permissions on the profile directory or "
                    "passphrase file"},
    {-1, NULL},
};

int
cmd_exit_from_err(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return CMD_EXIT_OK;
	case ERR_INVALID:
	case ERR_CORRUPT:
	case ERR_CRYPTO:
	case ERR_TOOLARGE:
	case ERR_EXISTS:
	case ERR_DUPLICATE:
		return CMD_EXIT_DATA;
	case ERR_NOTFOUND:
		return CMD_EXIT_NOTFOUND;
	case ERR_BADKEY:
	case ERR_AUTH:
		return CMD_EXIT_AUTH;
	case ERR_UNTRUSTED:
		return CMD_EXIT_UNTRUSTED;
	case ERR_IO:
	case ERR_NOSPACE:
	case ERR_NETWORK:
	case ERR_RATE:
	case ERR_BUSY:
	case ERR_STALE:
	case ERR_NOSESSION:
	case ERR_LIMIT:
		return CMD_EXIT_TEMPFAIL;
	default:
		return CMD_EXIT_SOFTWARE;
	}
}

int
cmd_exit_from_rpc(int code)
{
	switch (code) {
	case JSONRPC_INVALID_PARAMS:
		return CMD_EXIT_USAGE;
	case JSONRPC_METHOD_NOT_FOUND:
	case JSONRPC_NOT_IMPLEMENTED:
		return CMD_EXIT_UNAVAILABLE;
	case JSONRPC_LOCKED:
	case JSONRPC_BAD_PASSPHRASE:
	case JSONRPC_DENIED:
		return CMD_EXIT_AUTH;
	case JSONRPC_NOT_FOUND:
		return CMD_EXIT_NOTFOUND;
	case JSONRPC_UNTRUSTED:
		return CMD_EXIT_UNTRUSTED;
	case JSONRPC_UNAVAILABLE:
		return CMD_EXIT_TEMPFAIL;
	case JSONRPC_INVALID_DATA:
	case JSONRPC_EXISTS:
		return CMD_EXIT_DATA;
	default:
		return CMD_EXIT_SOFTWARE;
	}
}

const struct cmd_entry *
cmd_find(const char *name, unsigned where)
{
	const struct cmd_entry *const *cep;

	for (cep = cmd_table; *cep != NULL; cep++) {
		const struct cmd_entry *ce = *cep;
		if (!(ce->where & where))
			continue;
		if (strcmp(ce->name, name) == 0 ||
		    (ce->alias != NULL && strcmp(ce->alias, name) == 0))
			return ce;
	}
	return NULL;
}

const struct cmd_entry *
cmd_find_method(const char *method)
{
	const struct cmd_entry *const *cep;

	for (cep = cmd_table; *cep != NULL; cep++)
		if ((*cep)->method != NULL && ((*cep)->where & CMD_RPC) &&
		    strcmp((*cep)->method, method) == 0)
			return *cep;
	return NULL;
}

static int
cmd_compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
cmd_complete(const char *prefix, unsigned where, const char **out, size_t max)
{
	const struct cmd_entry *const *cep;
	const char *all[2 * (sizeof cmd_table / sizeof cmd_table[0])];
	size_t n = 0, i, plen = strlen(prefix);

	for (cep = cmd_table; *cep != NULL; cep++) {
		const struct cmd_entry *ce = *cep;
		if (!(ce->where & where) || (ce->where & CMD_HIDDEN))
			continue;
		if (strncmp(ce->name, prefix, plen) == 0)
			all[n++] = ce->name;
		if (ce->alias != NULL && strncmp(ce->alias, prefix, plen) == 0)
			all[n++] = ce->alias;
	}
	qsort(all, n, sizeof all[0], cmd_compare_names);
	for (i = 0; i < n && i < max; i++)
		out[i] = all[i];
	return n;
}

void
cmd_args_clear(struct cmd_args *a)
{
	size_t i;

	for (i = 0; i < CMD_ARGS_MAX; i++) {
		free(a->opt[i]);
		free(a->pos[i]);
	}
	memset(a, 0, sizeof *a);
}

const char *
cmd_args_get(const struct cmd_args *a, const char *name)
{
	size_t i;

	for (i = 0; a->entry->options != NULL && a->entry->options[i].name != NULL; i++)
		if (strcmp(a->entry->options[i].name, name) == 0)
			return a->opt[i];
	for (i = 0; a->entry->args != NULL && a->entry->args[i].name != NULL; i++)
		if (strcmp(a->entry->args[i].name, name) == 0)
			return a->pos[i];
	return NULL;
}

int
cmd_parse_count(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static const struct cmd_arg *
cmd_find_option(const struct cmd_arg *list, const char *name, size_t len, size_t *index)
{
	size_t i;

	for (i = 0; list != NULL && list[i].name != NULL; i++)
		if (!(list[i].flags & CMD_A_RPC_ONLY) && strlen(list[i].name) == len &&
		    strncmp(list[i].name, name, len) == 0) {
			*index = i;
			return &list[i];
		}
	return NULL;
}

static void
cmd_store_global(struct cmd_ctx *ctx, const struct cmd_arg *opt, const char *value)
{
	char **slot = NULL;

	if (strcmp(opt->name, "home") == 0)
		slot = &ctx->home;
	else if (strcmp(opt->name, "profile") == 0)
		slot = &ctx->profile;
	else if (strcmp(opt->name, "passphrase-file") == 0)
		slot = &ctx->passphrase_file;
	if (slot != NULL) {
		free(*slot);
		*slot = xstrdup(value);
	}
}

/* One option word (and maybe the word after it, for its value). Returns
 * how many words it used, or -1. */
static int
cmd_parse_option(const struct cmd_entry *ce, char **words, int left, struct cmd_ctx *ctx,
                 struct cmd_args *a, struct err *e)
{
	const char *word = words[0], *name, *eq, *value = NULL;
	const struct cmd_arg *opt;
	size_t len, index;
	long long n;
	int used = 1, global = 0;

	if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0) {
		a->help = true;
		return 1;
	}
	if (word[1] != '-')
		return err_set(e, ERR_INVALID, "%s: unknown option %s", ce->name, word);
	name = word + 2;
	eq = strchr(name, '=');
	len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	opt = cmd_find_option(ce->options, name, len, &index);
	if (opt == NULL && ctx != NULL) {
		opt = cmd_find_option(cmd_global_options, name, len, &index);
		/* Only the options that set something make sense here. */
		global = opt != NULL && opt->type != CMD_T_FLAG;
		if (!global)
			opt = NULL;
	}
	if (opt == NULL)
		return err_set(e, ERR_INVALID, "%s: unknown option --%.*s", ce->name, (int)len,
		               name);
	if (opt->type == CMD_T_FLAG) {
		if (eq != NULL)
			return err_set(e, ERR_INVALID, "%s: --%s takes no value", ce->name,
			               opt->name);
		value = "1";
	} else if (eq != NULL) {
		value = eq + 1;
	} else if (left > 1) {
		value = words[1];
		used = 2;
	} else {
		return err_set(e, ERR_INVALID, "%s: --%s needs a value (%s)", ce->name, opt->name,
		               opt->meta);
	}
	if (opt->type == CMD_T_INT && cmd_parse_count(value, &n) < 0)
		return err_set(e, ERR_INVALID, "%s: --%s needs a number, not '%s'", ce->name,
		               opt->name, value);
	if (global) {
		cmd_store_global(ctx, opt, value);
		return used;
	}
	if (a->opt[index] != NULL)
		return err_set(e, ERR_INVALID, "%s: --%s given twice", ce->name, opt->name);
	a->opt[index] = xstrdup(value);
	return used;
}

/* The shared parser. raw, when not NULL, holds where each word starts in
 * the UI line, so that TEXT keeps the user's own spacing. */
static int
cmd_parse_words(const struct cmd_entry *ce, int n, char **words, const char *const *raw,
                struct cmd_ctx *ctx, struct cmd_args *a, struct err *e)
{
	size_t npos = 0, i;
	int only_positionals = 0, k = 0, used;
	long long v;

	memset(a, 0, sizeof *a);
	a->entry = ce;
	while (k < n) {
		const char *word = words[k];
		const struct cmd_arg *spec;

		if (!only_positionals && strcmp(word, "--") == 0) {
			only_positionals = 1;
			k++;
			continue;
		}
		if (!only_positionals && word[0] == '-' && word[1] != '\0') {
			used = cmd_parse_option(ce, words + k, n - k, ctx, a, e);
			if (used < 0)
				goto fail;
			if (a->help)
				return 0;
			k += used;
			continue;
		}
		spec = ce->args != NULL && ce->args[npos].name != NULL ? &ce->args[npos] : NULL;
		if (spec == NULL) {
			err_set(e, ERR_INVALID, "%s: unexpected argument '%s'", ce->name, word);
			goto fail;
		}
		if (spec->type == CMD_T_TEXT) {
			/* The text is the rest: options must come before it. */
			if (raw != NULL) {
				a->pos[npos] = xstrdup(raw[k]);
			} else {
				size_t total = 0, off = 0;
				int j;
				for (j = k; j < n; j++)
					total += strlen(words[j]) + 1;
				a->pos[npos] = xmalloc(total);
				for (j = k; j < n; j++) {
					size_t wl = strlen(words[j]);
					memcpy(a->pos[npos] + off, words[j], wl);
					off += wl;
					a->pos[npos][off++] = j + 1 < n ? ' ' : '\0';
				}
			}
			npos++;
			break;
		}
		if (spec->type == CMD_T_INT && cmd_parse_count(word, &v) < 0) {
			err_set(e, ERR_INVALID, "%s: %s must be a number, not '%s'", ce->name,
			        spec->name, word);
			goto fail;
		}
		a->pos[npos++] = xstrdup(word);
		k++;
	}
	for (i = 0; ce->options != NULL && ce->options[i].name != NULL; i++)
		if ((ce->options[i].flags & CMD_A_REQUIRED) && a->opt[i] == NULL) {
			err_set(e, ERR_INVALID, "%s: missing --%s %s", ce->name,
			        ce->options[i].name, ce->options[i].meta);
			goto fail;
		}
	for (i = npos; ce->args != NULL && ce->args[i].name != NULL; i++)
		if (!(ce->args[i].flags & CMD_A_OPTIONAL)) {
			err_set(e, ERR_INVALID, "%s: missing %s", ce->name, ce->args[i].name);
			goto fail;
		}
	return 0;
fail:
	cmd_args_clear(a);
	return -1;
}

int
cmd_parse_argv(const struct cmd_entry *ce, int argc, char **argv, struct cmd_ctx *ctx,
               struct cmd_args *a, struct err *e)
{
	return cmd_parse_words(ce, argc, argv, NULL, ctx, a, e);
}

int
cmd_parse_line(const char *line, unsigned where, struct cmd_args *a, struct err *e)
{
	size_t len = strlen(line), cap = len / 2 + 2;
	char **words = xcalloc(cap, sizeof *words);
	const char **raw = xcalloc(cap, sizeof *raw);
	const struct cmd_entry *ce;
	char *copy, *orig, *p;
	int n = 0, rc = -1;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/* copy is split into words in place; orig stays whole so a TEXT
	 * argument can be taken from it exactly as typed. */
	copy = xstrndup(line, len);
	orig = xstrndup(line, len);
	p = copy;
	if (*p == '/')
		p++;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		raw[n] = orig + (p - copy);
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	memset(a, 0, sizeof *a);
	if (n == 0) {
		err_set(e, ERR_INVALID, "no command given");
		goto out;
	}
	ce = cmd_find(words[0], where);
	if (ce == NULL) {
		err_set(e, ERR_INVALID, "unknown command /%s", words[0]);
		goto out;
	}
	rc = cmd_parse_words(ce, n - 1, words + 1, raw + 1, NULL, a, e);
out:
	free(copy);
	free(orig);
	free(words);
	free(raw);
	return rc;
}

void
cmd_ctx_clear(struct cmd_ctx *ctx)
{
	free(ctx->home);
	free(ctx->profile);
	free(ctx->passphrase_file);
	ctx->home = ctx->profile = ctx->passphrase_file = NULL;
}

static int
cmd_usage_error(struct cmd_ctx *ctx, const struct cmd_entry *ce, const char *msg)
{
	char *usage;

	fprintf(ctx->err, "sotto: %s\n", msg);
	if (ce != NULL) {
		usage = cmd_help_usage(ce, CMD_CLI);
		fprintf(ctx->err, "usage: %s\n", usage);
		free(usage);
	} else {
		fprintf(ctx->err, "Run 'sotto --help' for the list of commands.\n");
	}
	return CMD_EXIT_USAGE;
}

/* Options before the command. Returns how many words they took, or -1
 * after handling --help/--version/--man-commands (*status set) or an
 * error. */
static int
cmd_parse_globals(struct cmd_ctx *ctx, int argc, char **argv, int *status)
{
	const struct cmd_arg *opt;
	const char *word, *name, *eq, *value;
	size_t len, index;
	char msg[160];
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
		word = argv[i];
		if (strcmp(word, "--") == 0)
			return i + 1;
		if (strcmp(word, "-h") == 0)
			word = "--help";
		else if (strcmp(word, "-V") == 0)
			word = "--version";
		name = word + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		opt =
		    word[1] == '-' ? cmd_find_option(cmd_global_options, name, len, &index) : NULL;
		if (opt == NULL) {
			snprintf(msg, sizeof msg, "unknown option %s", argv[i]);
			*status = cmd_usage_error(ctx, NULL, msg);
			return -1;
		}
		if (opt->type == CMD_T_FLAG) {
			if (strcmp(opt->name, "help") == 0)
				cmd_help_overview(ctx->out);
			else if (strcmp(opt->name, "version") == 0)
				fprintf(ctx->out, "sotto %s\n", PACKAGE_VERSION);
			else
				cmd_help_man_commands(ctx->out);
			*status = CMD_EXIT_OK;
			return -1;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(msg, sizeof msg, "--%s needs a value (%s)", opt->name, opt->meta);
			*status = cmd_usage_error(ctx, NULL, msg);
			return -1;
		}
		cmd_store_global(ctx, opt, value);
		i++;
	}
	return i;
}

int
cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *ce;
	struct cmd_args a;
	struct err e;
	char msg[160];
	int first, status = CMD_EXIT_OK;

	first = cmd_parse_globals(ctx, argc, argv, &status);
	if (first < 0)
		return status;
	if (first >= argc) {
		if (ctx->ui_main != NULL)
			return ctx->ui_main(ctx);
		fprintf(ctx->err, "sotto: the full-screen interface is not part of this program; "
		                  "run 'sotto --help' for the commands\n");
		return CMD_EXIT_UNAVAILABLE;
	}
	ce = cmd_find(argv[first], CMD_CLI);
	if (ce == NULL) {
		if (cmd_find(argv[first], CMD_UI) != NULL)
			snprintf(msg, sizeof msg,
			         "'%s' is a slash command of the full-screen interface, "
			         "not a command-line command",
			         argv[first]);
		else
			snprintf(msg, sizeof msg, "unknown command '%s'", argv[first]);
		return cmd_usage_error(ctx, NULL, msg);
	}
	if (cmd_parse_argv(ce, argc - first - 1, argv + first + 1, ctx, &a, &e) < 0)
		return cmd_usage_error(ctx, ce, e.msg);
	if (a.help) {
		char *text = cmd_help_text(ce, CMD_CLI);
		fputs(text, ctx->out);
		free(text);
		cmd_args_clear(&a);
		return CMD_EXIT_OK;
	}
	status = ce->exec(ctx, &a);
	cmd_args_clear(&a);
	return status;
}
