/* Commands that need no engine: help and version. */
#include "config.h"

#include "cmd.h"

#include <stdlib.h>

static int
cmd_info_help_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *name = args->pos[0];
	const struct cmd_entry *ce;
	char *text;

	if (name == NULL) {
		cmd_help_overview(ctx->out);
		return CMD_EXIT_OK;
	}
	if (name[0] == '/')
		ce = cmd_find(name + 1, CMD_UI);
	else
		ce = cmd_find(name, CMD_CLI);
	if (ce == NULL)
		ce = cmd_find(name, CMD_UI | CMD_RPC);
	if (ce == NULL || (ce->where & CMD_HIDDEN)) {
		fprintf(ctx->err, "sotto: help: no command '%s'; run 'sotto --help' for the list\n",
		        name);
		return CMD_EXIT_USAGE;
	}
	text = cmd_help_text(ce, name[0] == '/' ? CMD_UI : CMD_CLI | CMD_UI | CMD_RPC);
	fputs(text, ctx->out);
	free(text);
	return CMD_EXIT_OK;
}

static const struct cmd_arg cmd_info_help_args[] = {
    {"COMMAND", CMD_T_STRING, NULL, CMD_A_OPTIONAL, "a command, slash command or JSON-RPC method"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_info_help_entry = {
    .name = "help",
    .args = cmd_info_help_args,
    .summary = "show the commands, or how to use one",
    .help = "Without COMMAND, lists the commands; with it, shows its usage, options and "
            "where it is available.",
    .where = CMD_CLI | CMD_UI,
    .exec = cmd_info_help_exec,
};

static int
cmd_info_version_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	fprintf(ctx->out, "sotto %s\n", PACKAGE_VERSION);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_info_version_entry = {
    .name = "version",
    .summary = "show sotto's version",
    .help = "Prints \"sotto\" and the version number; the same as sotto --version.",
    .where = CMD_CLI | CMD_UI,
    .exec = cmd_info_version_exec,
};
