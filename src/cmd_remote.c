/* The CLI side of every command the engine answers: build the JSON-RPC
 * params from the table's argument spec, attach to (or start) the engine,
 * unlock when needed, call, and print the answer as text or JSON. */
#include "cmd.h"

#include "client.h"
#include "jsonrpc.h"
#include "profile.h"
#include "util/sanitize.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
cmd_remote_fail(struct cmd_ctx *ctx, const struct err *e)
{
	fprintf(ctx->err, "sotto: %s\n", e->msg);
	return cmd_exit_from_err(e->code);
}

int
cmd_remote_rpc_fail(struct cmd_ctx *ctx, const char *method, const struct client_rpc_error *re)
{
	/* Our own messages already name the method. */
	if (strncmp(re->message, method, strlen(method)) == 0)
		fprintf(ctx->err, "sotto: %s\n", re->message);
	else
		fprintf(ctx->err, "sotto: %s: %s\n", method, re->message);
	return cmd_exit_from_rpc(re->code);
}

int
cmd_remote_profile(struct cmd_ctx *ctx, struct profile *p)
{
	struct err e;

	if (profile_resolve(p, ctx->home, ctx->profile, &e) < 0)
		return cmd_remote_fail(ctx, &e);
	if (profile_prepare(p, &e) < 0) {
		profile_clear(p);
		return cmd_remote_fail(ctx, &e);
	}
	return CMD_EXIT_OK;
}

int
cmd_remote_attach(struct cmd_ctx *ctx, struct profile *p, struct client *c, bool unlock)
{
	struct client_rpc_error re;
	struct err e;
	int r;

	client_init(c);
	if (client_attach(c, p, true, &e) < 0) {
		client_close(c);
		return cmd_remote_fail(ctx, &e);
	}
	if (!unlock)
		return CMD_EXIT_OK;
	r = client_unlock_if_locked(c, ctx->passphrase_file, &re, &e);
	if (r == 0)
		return CMD_EXIT_OK;
	client_close(c);
	return r < 0 ? cmd_remote_fail(ctx, &e) : cmd_remote_rpc_fail(ctx, "unlock", &re);
}

/* Text from the engine can come from a peer: it goes through the same
 * sanitiser as the full-screen interface, so no control character, escape
 * sequence, bidi override or invalid UTF-8 reaches the terminal. Line
 * breaks stay. */
static void
cmd_remote_print_text(FILE *f, const char *s)
{
	char *safe = sanitize_str(s, SANITIZE_MULTILINE);

	fputs(safe, f);
	free(safe);
}

static void
cmd_remote_print_value(FILE *f, json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		cmd_remote_print_text(f, json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL)
		cmd_remote_print_text(f, s);
	free(s);
}

/* A result that is one list ({"messages": [...]}, {"contacts": [...]}):
 * the list, so scripts get one object per line. NULL otherwise. */
static json_t *
cmd_remote_sole_list(json_t *result)
{
	const char *key;
	json_t *v;

	if (!json_is_object(result) || json_object_size(result) != 1)
		return NULL;
	json_object_foreach(result, key, v)
		return json_is_array(v) ? v : NULL;
	return NULL;
}

/* One message as "2026-11-26 14:08 alice: text" (times local). */
static void
cmd_remote_print_message(FILE *f, json_t *m)
{
	json_t *sent = json_object_get(m, "sent_ms");
	const char *sender = json_string_value(json_object_get(m, "sender"));
	const char *text = json_string_value(json_object_get(m, "text"));
	const char *state = json_string_value(json_object_get(m, "state"));
	const char *dir = json_string_value(json_object_get(m, "direction"));
	char when[32] = "";
	time_t t;
	struct tm tm;

	if (json_is_integer(sent)) {
		t = (time_t)(json_integer_value(sent) / 1000);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof when, "%Y-%m-%d %H:%M ", &tm);
	}
	fputs(when, f);
	cmd_remote_print_text(f, sender != NULL ? sender : "?");
	fputs(": ", f);
	cmd_remote_print_text(f, text != NULL ? text : "");
	if (dir != NULL && strcmp(dir, "out") == 0 && state != NULL) {
		fputs("  (", f);
		cmd_remote_print_text(f, state);
		fputc(')', f);
	}
	fputc('\n', f);
}

/* Generic text output until commands get their own formatting: objects
 * as "key: value" lines, arrays one element per line. */
static void
cmd_remote_print_human(FILE *f, json_t *result)
{
	const char *key, *sep;
	json_t *v, *item;
	size_t i;

	if (json_is_null(result) || json_is_true(result))
		return;
	v = json_object_get(result, "messages");
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			cmd_remote_print_message(f, item);
		return;
	}
	v = json_object_get(result, "message");
	if (json_is_object(v)) {
		cmd_remote_print_message(f, v);
		return;
	}
	v = cmd_remote_sole_list(result);
	if (v != NULL)
		result = v;
	if (json_is_object(result)) {
		json_object_foreach(result, key, v) {
			cmd_remote_print_text(f, key);
			fputs(": ", f);
			cmd_remote_print_value(f, v);
			fputc('\n', f);
		}
		return;
	}
	if (json_is_array(result)) {
		json_array_foreach(result, i, item) {
			if (!json_is_object(item)) {
				cmd_remote_print_value(f, item);
				fputc('\n', f);
				continue;
			}
			sep = "";
			json_object_foreach(item, key, v) {
				fputs(sep, f);
				cmd_remote_print_text(f, key);
				fputc('=', f);
				cmd_remote_print_value(f, v);
				sep = "  ";
			}
			fputc('\n', f);
		}
		return;
	}
	cmd_remote_print_value(f, result);
	fputc('\n', f);
}

/* --json: one line of JSON; an array, or a result that is one list,
 * becomes one line per element. */
static void
cmd_remote_print_json(FILE *f, json_t *result)
{
	json_t *item, *list = cmd_remote_sole_list(result);
	size_t i;

	if (list != NULL)
		result = list;
	if (!json_is_array(result)) {
		json_dumpf(result, f, JSON_COMPACT | JSON_ENCODE_ANY);
		fputc('\n', f);
		return;
	}
	json_array_foreach(result, i, item) {
		json_dumpf(item, f, JSON_COMPACT | JSON_ENCODE_ANY);
		fputc('\n', f);
	}
}

void
cmd_remote_print(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *result)
{
	if (cmd_args_get(args, "json") != NULL)
		cmd_remote_print_json(ctx->out, result);
	else
		cmd_remote_print_human(ctx->out, result);
	fflush(ctx->out);
}

int
cmd_remote_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	json_t *params;
	struct err e;

	params = cmd_params_from_args(args, ctx->in, &e);
	if (params == NULL)
		return cmd_remote_fail(ctx, &e);
	return cmd_remote_call(ctx, args, params, true);
}

int
cmd_remote_call(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *params, bool unlock)
{
	json_t *result;
	int status = cmd_remote_fetch(ctx, args, params, unlock, &result);

	if (status == CMD_EXIT_OK) {
		cmd_remote_print(ctx, args, result);
		json_decref(result);
	}
	return status;
}

int
cmd_remote_fetch(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *params, bool unlock,
                 json_t **result)
{
	const struct cmd_entry *ce = args->entry;
	struct client_rpc_error re;
	struct profile p;
	struct client c;
	struct err e;
	int status, r;

	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK) {
		json_decref(params);
		return status;
	}
	status = cmd_remote_attach(ctx, &p, &c, unlock);
	profile_clear(&p);
	if (status != CMD_EXIT_OK) {
		json_decref(params);
		return status;
	}
	r = client_call(&c, ce->method, params, result, &re, &e);
	if (r < 0)
		status = cmd_remote_fail(ctx, &e);
	else if (r > 0)
		status = cmd_remote_rpc_fail(ctx, ce->method, &re);
	client_close(&c);
	return status;
}
