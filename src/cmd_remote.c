/* The CLI side of every command the engine answers: build the JSON-RPC
 * params from the table's argument spec, attach to (or start) the engine,
 * unlock when needed, call, and print the answer as text or JSON. */
#include "cmd.h"

#include "client.h"
#include "jsonrpc.h"
#include "profile.h"

#include <stdlib.h>
#include <string.h>

int
cmd_remote_fail(struct cmd_ctx *ctx, const struct err *e)
{
	fprintf(ctx->err, "sotto: %s\n", e->msg);
	return cmd_exit_from_err(e->code);
}

static int
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

/* Text from the engine can come from a peer: no control character, C0 or
 * C1, may reach the terminal. Tabs and newlines pass. */
static void
cmd_remote_print_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f) {
			fputc('?', f);
		} else {
			fputc(*p, f);
		}
	}
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
	if (json_is_object(result)) {
		json_object_foreach(result, key, v)
		{
			cmd_remote_print_text(f, key);
			fputs(": ", f);
			cmd_remote_print_value(f, v);
			fputc('\n', f);
		}
		return;
	}
	if (json_is_array(result)) {
		json_array_foreach(result, i, item)
		{
			if (!json_is_object(item)) {
				cmd_remote_print_value(f, item);
				fputc('\n', f);
				continue;
			}
			sep = "";
			json_object_foreach(item, key, v)
			{
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

/* --json: one line of JSON; an array becomes one line per element. */
static void
cmd_remote_print_json(FILE *f, json_t *result)
{
	json_t *item;
	size_t i;

	if (!json_is_array(result)) {
		json_dumpf(result, f, JSON_COMPACT | JSON_ENCODE_ANY);
		fputc('\n', f);
		return;
	}
	json_array_foreach(result, i, item)
	{
		json_dumpf(item, f, JSON_COMPACT | JSON_ENCODE_ANY);
		fputc('\n', f);
	}
}

int
cmd_remote_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const struct cmd_entry *ce = args->entry;
	struct client_rpc_error re;
	struct profile p;
	struct client c;
	json_t *params, *result;
	struct err e;
	int status, r;

	params = cmd_params_from_args(args, ctx->in, &e);
	if (params == NULL)
		return cmd_remote_fail(ctx, &e);
	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK) {
		json_decref(params);
		return status;
	}
	status = cmd_remote_attach(ctx, &p, &c, true);
	profile_clear(&p);
	if (status != CMD_EXIT_OK) {
		json_decref(params);
		return status;
	}
	r = client_call(&c, ce->method, params, &result, &re, &e);
	if (r < 0) {
		status = cmd_remote_fail(ctx, &e);
	} else if (r > 0) {
		status = cmd_remote_rpc_fail(ctx, ce->method, &re);
	} else {
		if (cmd_args_get(args, "json") != NULL)
			cmd_remote_print_json(ctx->out, result);
		else
			cmd_remote_print_human(ctx->out, result);
		json_decref(result);
	}
	client_close(&c);
	return status;
}
