/* Unit tests for the command table: dispatch and usage errors, parsing of
 * command lines and UI lines, completion, JSON-RPC parameters, help, and
 * that sotto(1) says exactly what the table says. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jsonrpc.h"

#ifndef SOTTO_TOP_SRCDIR
#define SOTTO_TOP_SRCDIR "."
#endif

/* One run of the command line with captured output. */
struct run {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

static void
run_argv(struct run *r, int argc, char **argv)
{
	struct cmd_ctx ctx = {0};

	memset(r, 0, sizeof *r);
	ctx.in = NULL;
	ctx.out = open_memstream(&r->out, &r->out_len);
	ctx.err = open_memstream(&r->err, &r->err_len);
	r->status = cmd_run(&ctx, argc, argv);
	fclose(ctx.out);
	fclose(ctx.err);
	cmd_ctx_clear(&ctx);
}

#define RUN(r, ...)                                                                                \
	do {                                                                                       \
		char *argv_[] = {"sotto", __VA_ARGS__, NULL};                                      \
		run_argv((r), (int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_);                   \
	} while (0)

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf = realloc(buf, len + n + 1);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	buf = realloc(buf, len + 1);
	buf[len] = '\0';
	return buf;
}

static void
test_cmd_version_and_demo(void **state)
{
	struct run r;
	(void)state;

	RUN(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "sotto " PACKAGE_VERSION "\n");
	run_free(&r);
	RUN(&r, "version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "sotto " PACKAGE_VERSION "\n");
	run_free(&r);
	/* Without a terminal: refused before anything starts. */
	RUN(&r, "demo");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "needs a terminal"));
	run_free(&r);
}

static void
test_cmd_unknown_command_is_usage_error(void **state)
{
	struct run r;
	(void)state;

	RUN(&r, "frobnicate");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
	assert_string_equal(r.out, "");
	run_free(&r);
	/* A slash command is named as such, not just "unknown". */
	RUN(&r, "quit");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "slash command"));
	run_free(&r);
	RUN(&r, "--bogus", "version");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	run_free(&r);
}

static void
test_cmd_usage_errors_name_problem_and_show_usage(void **state)
{
	struct run r;
	(void)state;

	RUN(&r, "send");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "missing TO"));
	assert_non_null(strstr(r.err, "usage: sotto send [--json] [--queue] TO TEXT"));
	run_free(&r);
	RUN(&r, "send", "bob");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "missing TEXT"));
	run_free(&r);
	RUN(&r, "history", "--limit", "ten");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "needs a number"));
	run_free(&r);
	RUN(&r, "history", "--limit");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "needs a value"));
	run_free(&r);
	RUN(&r, "contacts", "--frob");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "unknown option --frob"));
	run_free(&r);
	RUN(&r, "contacts", "extra");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "unexpected argument"));
	run_free(&r);
	RUN(&r, "register", "alice");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "missing --relay URL"));
	run_free(&r);
	RUN(&r, "contacts", "--json=yes");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	run_free(&r);
	RUN(&r, "history", "--limit", "1", "--limit", "2");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	assert_non_null(strstr(r.err, "given twice"));
	run_free(&r);
}

static void
test_cmd_help_lists_every_cli_command(void **state)
{
	const struct cmd_entry *const *cep;
	struct run r;
	char needle[64];
	(void)state;

	RUN(&r, "--help");
	assert_int_equal(r.status, 0);
	for (cep = cmd_table; *cep != NULL; cep++) {
		snprintf(needle, sizeof needle, "\n  %s ", (*cep)->name);
		if (((*cep)->where & CMD_CLI) && !((*cep)->where & CMD_HIDDEN))
			assert_non_null(strstr(r.out, needle));
		else
			assert_null(strstr(r.out, needle));
	}
	assert_non_null(strstr(r.out, "--passphrase-file FILE"));
	run_free(&r);
	/* help with no argument is the same overview. */
	RUN(&r, "help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\n  register "));
	run_free(&r);
}

static void
test_cmd_help_for_one_command(void **state)
{
	struct run r;
	(void)state;

	RUN(&r, "help", "send");
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: sotto send [--json] [--queue] TO TEXT\n", 45) == 0);
	assert_non_null(strstr(r.out, "JSON-RPC method \"send\""));
	run_free(&r);
	RUN(&r, "send", "--help");
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: sotto send", 17) == 0);
	run_free(&r);
	RUN(&r, "help", "/msg");
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: /msg NAME [TEXT]\n", 24) == 0);
	run_free(&r);
	RUN(&r, "help", "engine.subscribe");
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: engine.subscribe(cursor?: integer)\n", 42) == 0);
	run_free(&r);
	RUN(&r, "help", "log");
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "usage: sotto history", 20) == 0);
	run_free(&r);
	RUN(&r, "help", "engine");
	assert_int_equal(r.status, CMD_EXIT_USAGE); /* hidden */
	run_free(&r);
	RUN(&r, "help", "nonesuch");
	assert_int_equal(r.status, CMD_EXIT_USAGE);
	run_free(&r);
}

static void
test_cmd_parse_text_takes_rest_and_globals_anywhere(void **state)
{
	const struct cmd_entry *ce = cmd_find("send", CMD_CLI);
	char *words[] = {"--home", "/h", "--json", "bob", "hello", "--json", "world"};
	char *dash[] = {"--", "bob", "-x-"};
	struct cmd_ctx ctx = {0};
	struct cmd_args a;
	struct err e;
	(void)state;

	assert_non_null(ce);
	assert_int_equal(cmd_parse_argv(ce, 7, words, &ctx, &a, &e), 0);
	assert_string_equal(ctx.home, "/h");
	assert_string_equal(cmd_args_get(&a, "json"), "1");
	assert_string_equal(cmd_args_get(&a, "TO"), "bob");
	/* Options end where the text begins: the text is taken whole. */
	assert_string_equal(cmd_args_get(&a, "TEXT"), "hello --json world");
	cmd_args_clear(&a);
	assert_int_equal(cmd_parse_argv(ce, 3, dash, &ctx, &a, &e), 0);
	assert_string_equal(cmd_args_get(&a, "TEXT"), "-x-");
	assert_null(cmd_args_get(&a, "json"));
	cmd_args_clear(&a);
	cmd_ctx_clear(&ctx);
}

static void
test_cmd_parse_line_keeps_text_as_typed(void **state)
{
	struct cmd_args a;
	struct err e;
	(void)state;

	assert_int_equal(cmd_parse_line("/msg bob  hello   world \n", CMD_UI, &a, &e), 0);
	assert_string_equal(a.entry->name, "msg");
	assert_string_equal(cmd_args_get(&a, "NAME"), "bob");
	assert_string_equal(cmd_args_get(&a, "TEXT"), "hello   world ");
	cmd_args_clear(&a);
	assert_int_equal(cmd_parse_line("/msg bob", CMD_UI, &a, &e), 0);
	assert_null(cmd_args_get(&a, "TEXT"));
	cmd_args_clear(&a);
	assert_int_equal(cmd_parse_line("/exit", CMD_UI, &a, &e), 0);
	assert_string_equal(a.entry->name, "quit");
	cmd_args_clear(&a);
	assert_int_equal(cmd_parse_line("/trust --verified 123 carol", CMD_UI, &a, &e), 0);
	assert_string_equal(cmd_args_get(&a, "verified"), "123");
	assert_string_equal(cmd_args_get(&a, "NAME"), "carol");
	cmd_args_clear(&a);
	assert_int_equal(cmd_parse_line("/nope", CMD_UI, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(cmd_parse_line("/send bob hi", CMD_UI, &a, &e), -1); /* CLI only */
	assert_int_equal(cmd_parse_line("   ", CMD_UI, &a, &e), -1);
	assert_int_equal(cmd_parse_line("/msg", CMD_UI, &a, &e), -1);
	assert_non_null(strstr(e.msg, "missing NAME"));
}

static void
test_cmd_complete_by_prefix(void **state)
{
	const char *out[32];
	size_t n;
	(void)state;

	n = cmd_complete("h", CMD_CLI, out, 32);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "help");
	assert_string_equal(out[1], "history");
	/* Hidden commands never complete; aliases do. */
	n = cmd_complete("e", CMD_CLI, out, 32);
	assert_int_equal(n, 0);
	n = cmd_complete("l", CMD_CLI, out, 32);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "log");
	n = cmd_complete("", CMD_UI, out, 32);
	assert_int_equal(n, 11);
	assert_string_equal(out[0], "add");
	n = cmd_complete("", CMD_UI, out, 2);
	assert_int_equal(n, 11); /* all matches counted, two returned */
	n = cmd_complete("zz", CMD_UI, out, 32);
	assert_int_equal(n, 0);
}

static void
test_cmd_find_respects_where(void **state)
{
	(void)state;
	assert_non_null(cmd_find("send", CMD_CLI));
	assert_null(cmd_find("send", CMD_UI));
	assert_non_null(cmd_find("msg", CMD_UI));
	assert_null(cmd_find("msg", CMD_CLI));
	assert_non_null(cmd_find("engine", CMD_CLI)); /* hidden, still dispatches */
	assert_ptr_equal(cmd_find("log", CMD_CLI), cmd_find("history", CMD_CLI));
	assert_ptr_equal(cmd_find_method("send"), cmd_find("send", CMD_CLI));
	assert_non_null(cmd_find_method("engine.info"));
	assert_null(cmd_find_method("msg"));
}

static void
test_cmd_table_entries_are_complete_and_unique(void **state)
{
	const struct cmd_entry *const *a, *const *b;
	(void)state;

	for (a = cmd_table; *a != NULL; a++) {
		assert_non_null((*a)->summary);
		assert_non_null((*a)->help);
		if ((*a)->where & CMD_CLI)
			assert_non_null((*a)->exec);
		if ((*a)->where & CMD_RPC)
			assert_non_null((*a)->method);
		for (b = a + 1; *b != NULL; b++) {
			if (!((*a)->where & (*b)->where & (CMD_CLI | CMD_UI)))
				continue;
			assert_string_not_equal((*a)->name, (*b)->name);
			if ((*a)->alias != NULL)
				assert_string_not_equal((*a)->alias, (*b)->name);
		}
	}
}

static json_t *
params_for(int argc, char **argv, FILE *in, struct err *e)
{
	const struct cmd_entry *ce = cmd_find(argv[0], CMD_CLI);
	struct cmd_ctx ctx = {0};
	struct cmd_args a;
	json_t *params;

	assert_int_equal(cmd_parse_argv(ce, argc - 1, argv + 1, &ctx, &a, e), 0);
	params = cmd_params_from_args(&a, in, e);
	cmd_args_clear(&a);
	cmd_ctx_clear(&ctx);
	return params;
}

static void
test_cmd_params_follow_argument_spec(void **state)
{
	char *hist[] = {"history", "--json", "--limit", "5", "--with", "bob"};
	char *send[] = {"send", "carol", "-"};
	char text[] = "from stdin\n";
	FILE *in = fmemopen(text, strlen(text), "r");
	json_t *p;
	struct err e;
	(void)state;

	p = params_for(6, hist, NULL, &e);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "limit")), 5);
	assert_string_equal(json_string_value(json_object_get(p, "with")), "bob");
	assert_null(json_object_get(p, "json")); /* presentation only */
	assert_int_equal(cmd_params_check(cmd_find_method("history"), p, &e), 0);
	json_decref(p);

	p = params_for(3, send, in, &e);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "text")), "from stdin");
	assert_string_equal(json_string_value(json_object_get(p, "to")), "carol");
	json_decref(p);
	fclose(in);
	/* "-" without a stream to read is an error, not an empty message. */
	assert_null(params_for(3, send, NULL, &e));
}

static void
test_cmd_params_check_refuses_wrong_shapes(void **state)
{
	const struct cmd_entry *send = cmd_find_method("send");
	const struct cmd_entry *hist = cmd_find_method("history");
	const struct cmd_entry *reg = cmd_find_method("register");
	json_t *p;
	struct err e;
	(void)state;

	p = json_pack("{s:s}", "to", "bob");
	assert_int_equal(cmd_params_check(send, p, &e), -1);
	assert_non_null(strstr(e.msg, "missing parameter \"text\""));
	json_decref(p);
	p = json_pack("{s:s,s:s,s:b}", "to", "bob", "text", "x", "loud", 1);
	assert_int_equal(cmd_params_check(send, p, &e), -1);
	assert_non_null(strstr(e.msg, "unknown parameter \"loud\""));
	json_decref(p);
	p = json_pack("{s:i}", "to", 3);
	assert_int_equal(cmd_params_check(send, p, &e), -1);
	json_decref(p);
	p = json_pack("{s:i}", "limit", -1);
	assert_int_equal(cmd_params_check(hist, p, &e), -1);
	json_decref(p);
	p = json_pack("{s:b}", "json", 1);
	assert_int_equal(cmd_params_check(hist, p, &e), -1); /* local options are no params */
	json_decref(p);
	assert_int_equal(cmd_params_check(hist, NULL, &e), 0);
	p = json_pack("[s]", "x");
	assert_int_equal(cmd_params_check(hist, p, &e), -1);
	json_decref(p);
	p = json_pack("{s:s}", "name", "alice");
	assert_int_equal(cmd_params_check(reg, p, &e), -1);
	assert_non_null(strstr(e.msg, "\"relay\""));
	json_decref(p);
}

static void
test_cmd_exit_statuses_map_errors(void **state)
{
	(void)state;
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_UNTRUSTED), CMD_EXIT_UNTRUSTED);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_NOT_IMPLEMENTED), CMD_EXIT_UNAVAILABLE);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_BAD_PASSPHRASE), CMD_EXIT_AUTH);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_LOCKED), CMD_EXIT_AUTH);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_NOT_FOUND), CMD_EXIT_NOTFOUND);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_UNAVAILABLE), CMD_EXIT_TEMPFAIL);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_INVALID_PARAMS), CMD_EXIT_USAGE);
	assert_int_equal(cmd_exit_from_rpc(JSONRPC_INTERNAL_ERROR), CMD_EXIT_SOFTWARE);
	assert_int_equal(cmd_exit_from_err(ERR_NETWORK), CMD_EXIT_TEMPFAIL);
	assert_int_equal(cmd_exit_from_err(ERR_UNTRUSTED), CMD_EXIT_UNTRUSTED);
	assert_int_equal(cmd_exit_from_err(ERR_AUTH), CMD_EXIT_AUTH);
	assert_int_equal(cmd_exit_from_err(ERR_NOTFOUND), CMD_EXIT_NOTFOUND);
}

/* The text of one .SH section of the man page, up to the next .SH. */
static char *
man_section(const char *page, const char *title)
{
	char head[64];
	const char *start, *end;

	snprintf(head, sizeof head, "\n.SH %s\n", title);
	start = strstr(page, head);
	assert_non_null(start);
	start++;
	end = strstr(start + 1, "\n.SH ");
	assert_non_null(end);
	return strndup(start, (size_t)(end - start) + 1);
}

static void
test_cmd_man_page_commands_section_matches_table(void **state)
{
	char *page = read_file(SOTTO_TOP_SRCDIR "/man/sotto.1");
	char *section = man_section(page, "COMMANDS");
	char *generated = NULL;
	size_t len;
	FILE *f = open_memstream(&generated, &len);
	(void)state;

	cmd_help_man_commands(f);
	fclose(f);
	/* If this fails after a table change: make update-man. */
	assert_string_equal(section, generated);
	free(generated);
	free(section);
	free(page);
}

static void
test_cmd_man_page_lists_exit_statuses_and_options(void **state)
{
	char *page = read_file(SOTTO_TOP_SRCDIR "/man/sotto.1");
	char *exits = man_section(page, "EXIT STATUS");
	char *options = man_section(page, "OPTIONS");
	char needle[64];
	size_t i;
	(void)state;

	for (i = 0; cmd_exit_table[i].meaning != NULL; i++) {
		snprintf(needle, sizeof needle, "\n.B %d\n", cmd_exit_table[i].code);
		assert_non_null(strstr(exits, needle));
	}
	for (i = 0; cmd_global_options[i].name != NULL; i++) {
		char *p;
		snprintf(needle, sizeof needle, "\\-\\-%s", cmd_global_options[i].name);
		for (p = strchr(needle + 4, '-'); p != NULL; p = strchr(p + 2, '-')) {
			memmove(p + 1, p, strlen(p) + 1);
			*p = '\\';
		}
		assert_non_null(strstr(options, needle));
	}
	free(exits);
	free(options);
	free(page);
}

/* trust --verified with digits that do not match is "not verified", not a
 * usage error: ERR_CRYPTO travels as JSON-RPC invalid data and the
 * command exits 65, which its help and the man page say. */
static void
test_cmd_trust_mismatch_exits_65_not_usage(void **state)
{
	const struct cmd_entry *ce = cmd_find("trust", CMD_CLI);
	(void)state;

	assert_int_equal(jsonrpc_code_from_err(ERR_CRYPTO), JSONRPC_INVALID_DATA);
	assert_int_equal(cmd_exit_from_rpc(jsonrpc_code_from_err(ERR_CRYPTO)), CMD_EXIT_DATA);
	assert_int_equal(cmd_exit_from_err(ERR_CRYPTO), CMD_EXIT_DATA);
	assert_int_equal(CMD_EXIT_DATA, 65);
	assert_int_not_equal(cmd_exit_from_rpc(jsonrpc_code_from_err(ERR_CRYPTO)), CMD_EXIT_USAGE);
	assert_non_null(ce);
	assert_non_null(strstr(ce->help, "exit status is 65"));
}

/* The command line draws a QR code for safety on a terminal: its help
 * (and so /help and sotto(1)) says so. */
static void
test_cmd_safety_help_mentions_qr_code(void **state)
{
	const struct cmd_entry *ce = cmd_find("safety", CMD_CLI);
	char *text;
	(void)state;

	assert_non_null(ce);
	text = cmd_help_text(ce, CMD_CLI);
	assert_non_null(strstr(text, "QR code"));
	assert_non_null(strstr(text, "terminal"));
	free(text);
	text = cmd_help_text(ce, CMD_UI);
	assert_non_null(strstr(text, "QR code"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmd_version_and_demo),
	    cmocka_unit_test(test_cmd_unknown_command_is_usage_error),
	    cmocka_unit_test(test_cmd_usage_errors_name_problem_and_show_usage),
	    cmocka_unit_test(test_cmd_help_lists_every_cli_command),
	    cmocka_unit_test(test_cmd_help_for_one_command),
	    cmocka_unit_test(test_cmd_parse_text_takes_rest_and_globals_anywhere),
	    cmocka_unit_test(test_cmd_parse_line_keeps_text_as_typed),
	    cmocka_unit_test(test_cmd_complete_by_prefix),
	    cmocka_unit_test(test_cmd_find_respects_where),
	    cmocka_unit_test(test_cmd_table_entries_are_complete_and_unique),
	    cmocka_unit_test(test_cmd_params_follow_argument_spec),
	    cmocka_unit_test(test_cmd_params_check_refuses_wrong_shapes),
	    cmocka_unit_test(test_cmd_exit_statuses_map_errors),
	    cmocka_unit_test(test_cmd_man_page_commands_section_matches_table),
	    cmocka_unit_test(test_cmd_man_page_lists_exit_statuses_and_options),
	    cmocka_unit_test(test_cmd_trust_mismatch_exits_65_not_usage),
	    cmocka_unit_test(test_cmd_safety_help_mentions_qr_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
