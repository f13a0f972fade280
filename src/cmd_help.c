/* Help derived from the command table: usage lines, `sotto help CMD` and
 * /help text, the --help overview, and the COMMANDS section of sotto(1),
 * so none of them can drift from what the parser accepts. */
#include "cmd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CMD_HELP_WIDTH 78

/* The form a command is shown in, in order of preference. */
static unsigned
cmd_help_form(const struct cmd_entry *ce, unsigned where)
{
	if (ce->where & where & CMD_CLI)
		return CMD_CLI;
	if (ce->where & where & CMD_UI)
		return CMD_UI;
	if (ce->where & where & CMD_RPC)
		return CMD_RPC;
	if (ce->where & CMD_CLI)
		return CMD_CLI;
	return (ce->where & CMD_UI) ? CMD_UI : CMD_RPC;
}

static const char *
cmd_help_json_type(const struct cmd_arg *arg)
{
	switch (arg->type) {
	case CMD_T_FLAG:
		return "boolean";
	case CMD_T_INT:
		return "integer";
	case CMD_T_PATH:
		return "path";
	default:
		return "string";
	}
}

/* RPC form: method(to: string, limit?: integer). roff adds font escapes. */
static void
cmd_help_rpc_signature(FILE *f, const struct cmd_entry *ce, int roff)
{
	const struct cmd_arg *lists[2] = {ce->args, ce->options};
	const char *sep = "";
	char key[64];
	size_t l, i;

	fprintf(f, roff ? "\\fB%s\\fR(" : "%s(", ce->method);
	for (l = 0; l < 2; l++) {
		for (i = 0; lists[l] != NULL && lists[l][i].name != NULL; i++) {
			const struct cmd_arg *arg = &lists[l][i];
			int optional = l == 1 ? !(arg->flags & CMD_A_REQUIRED)
			                      : (arg->flags & CMD_A_OPTIONAL) != 0;
			if (arg->flags & CMD_A_LOCAL)
				continue;
			cmd_params_key(arg, key, sizeof key);
			fprintf(f, roff ? "%s\\fI%s\\fR%s: %s" : "%s%s%s: %s", sep, key,
			        optional ? "?" : "", cmd_help_json_type(arg));
			sep = ", ";
		}
	}
	fputc(')', f);
}

/* An option name in roff: bold, every dash escaped so it copies as "-". */
static void
cmd_help_roff_option(FILE *f, const char *name)
{
	fputs("\\fB\\-\\-", f);
	for (; *name != '\0'; name++) {
		if (*name == '-')
			fputs("\\-", f);
		else
			fputc(*name, f);
	}
	fputs("\\fR", f);
}

/* Command-line or slash form. roff escapes dashes and adds fonts. */
static void
cmd_help_word_signature(FILE *f, const struct cmd_entry *ce, unsigned form, int roff)
{
	size_t i;

	if (form == CMD_CLI)
		fprintf(f, roff ? "\\fBsotto %s\\fR" : "sotto %s", ce->name);
	else
		fprintf(f, roff ? "\\fB/%s\\fR" : "/%s", ce->name);
	for (i = 0; ce->options != NULL && ce->options[i].name != NULL; i++) {
		const struct cmd_arg *o = &ce->options[i];
		int required = (o->flags & CMD_A_REQUIRED) != 0;
		if (o->flags & CMD_A_RPC_ONLY)
			continue;
		fputs(required ? " " : " [", f);
		if (roff)
			cmd_help_roff_option(f, o->name);
		else
			fprintf(f, "--%s", o->name);
		if (o->type != CMD_T_FLAG)
			fprintf(f, roff ? " \\fI%s\\fR" : " %s", o->meta);
		if (!required)
			fputc(']', f);
	}
	for (i = 0; ce->args != NULL && ce->args[i].name != NULL; i++) {
		const struct cmd_arg *p = &ce->args[i];
		int opt = (p->flags & CMD_A_OPTIONAL) != 0;
		fprintf(f, roff ? " %s\\fI%s\\fR%s" : " %s%s%s", opt ? "[" : "", p->name,
		        opt ? "]" : "");
	}
}

char *
cmd_help_usage(const struct cmd_entry *ce, unsigned where)
{
	unsigned form = cmd_help_form(ce, where);
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (form == CMD_RPC)
		cmd_help_rpc_signature(f, ce, 0);
	else
		cmd_help_word_signature(f, ce, form, 0);
	fclose(f);
	return s;
}

/* Print text filled to CMD_HELP_WIDTH, continuation lines at indent.
 * col is where the cursor already is. */
static void
cmd_help_fill(FILE *f, const char *text, size_t col, size_t indent)
{
	const char *p = text;

	while (*p != '\0') {
		const char *w = p;
		size_t wl;
		while (*w == ' ')
			w++;
		wl = strcspn(w, " ");
		if (wl == 0)
			break;
		if (col > indent && col + 1 + wl > CMD_HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(w, 1, wl, f);
		col += wl;
		p = w + wl;
	}
	fputc('\n', f);
}

/* Paragraphs of a help string are separated by "\n\n". */
static void
cmd_help_paragraphs(FILE *f, const char *help, int roff)
{
	const char *p = help;

	while (p != NULL && *p != '\0') {
		const char *end = strstr(p, "\n\n");
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char *para = xstrndup(p, len);
		if (roff) {
			size_t i;
			fputs(".IP\n", f);
			if (para[0] == '.' || para[0] == '\'')
				fputs("\\&", f);
			for (i = 0; para[i] != '\0'; i++) {
				if (para[i] == '\\')
					fputs("\\e", f);
				else if (para[i] == '-')
					fputs("\\-", f);
				else if (para[i] == '\n')
					fputc(' ', f);
				else
					fputc(para[i], f);
			}
			fputc('\n', f);
		} else {
			fputs("\n  ", f);
			cmd_help_fill(f, para, 2, 2);
		}
		free(para);
		p = end != NULL ? end + 2 : NULL;
	}
}

static void
cmd_help_sentence(FILE *f, const char *summary)
{
	fputc(toupper((unsigned char)summary[0]), f);
	fprintf(f, "%s.\n", summary + 1);
}

static void
cmd_help_arg_list(FILE *f, const char *title, const struct cmd_arg *list, int dashes)
{
	size_t i;

	if (list == NULL || list[0].name == NULL)
		return;
	fprintf(f, "\n%s:\n", title);
	for (i = 0; list[i].name != NULL; i++) {
		char label[64];
		if (list[i].flags & CMD_A_RPC_ONLY)
			continue;
		if (dashes && list[i].type != CMD_T_FLAG)
			snprintf(label, sizeof label, "--%s %s", list[i].name, list[i].meta);
		else
			snprintf(label, sizeof label, "%s%s", dashes ? "--" : "", list[i].name);
		fprintf(f, "  %-20s", label);
		if (strlen(label) > 20)
			fprintf(f, "\n%22s", "");
		cmd_help_fill(f, list[i].help != NULL ? list[i].help : "", 22, 22);
	}
}

char *
cmd_help_text(const struct cmd_entry *ce, unsigned where)
{
	char *usage = cmd_help_usage(ce, where), *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);
	const char *sep = "";

	fprintf(f, "usage: %s\n", usage);
	free(usage);
	if (ce->alias != NULL)
		fprintf(f, "alias: %s\n", ce->alias);
	fputs("\n", f);
	cmd_help_sentence(f, ce->summary);
	cmd_help_paragraphs(f, ce->help, 0);
	cmd_help_arg_list(f, "Options", ce->options, 1);
	cmd_help_arg_list(f, "Arguments", ce->args, 0);
	fputs("\nAvailable as: ", f);
	if (ce->where & CMD_CLI) {
		fprintf(f, "sotto %s", ce->name);
		sep = ", ";
	}
	if (ce->where & CMD_UI) {
		fprintf(f, "%s/%s in the full-screen interface", sep, ce->name);
		sep = ", ";
	}
	if ((ce->where & CMD_RPC) && ce->method != NULL)
		fprintf(f, "%sJSON-RPC method \"%s\"", sep, ce->method);
	fputs(".\n", f);
	fclose(f);
	return s;
}

void
cmd_help_overview(FILE *f)
{
	const struct cmd_entry *const *cep;
	size_t i;

	fputs("usage: sotto [OPTIONS] COMMAND [ARGS...]\n"
	      "       sotto [OPTIONS]     (the full-screen interface)\n"
	      "\n"
	      "sotto is an end-to-end encrypted messenger for the terminal.\n"
	      "\nOptions:\n",
	      f);
	for (i = 0; cmd_global_options[i].name != NULL; i++) {
		const struct cmd_arg *o = &cmd_global_options[i];
		char label[64];
		if (o->type == CMD_T_FLAG)
			snprintf(label, sizeof label, "--%s", o->name);
		else
			snprintf(label, sizeof label, "--%s %s", o->name, o->meta);
		fprintf(f, "  %-24s", label);
		if (strlen(label) > 24)
			fprintf(f, "\n%26s", "");
		cmd_help_fill(f, o->help, 26, 26);
	}
	fputs("\nCommands:\n", f);
	for (cep = cmd_table; *cep != NULL; cep++) {
		if (!((*cep)->where & CMD_CLI) || ((*cep)->where & CMD_HIDDEN))
			continue;
		fprintf(f, "  %-12s", (*cep)->name);
		cmd_help_fill(f, (*cep)->summary, 14, 14);
	}
	fputs(
	    "\nRun 'sotto help COMMAND' or 'sotto COMMAND --help' for details, and see sotto(1).\n",
	    f);
}

static void
cmd_help_man_roff_text(FILE *f, const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] == '\\')
			fputs("\\e", f);
		else if (text[i] == '-')
			fputs("\\-", f);
		else
			fputc(text[i], f);
	}
}

static void
cmd_help_man_args(FILE *f, const struct cmd_arg *list, int dashes)
{
	size_t i;

	for (i = 0; list != NULL && list[i].name != NULL; i++) {
		if (list[i].help == NULL || (list[i].flags & CMD_A_RPC_ONLY))
			continue;
		fputs(".TP\n", f);
		if (dashes) {
			cmd_help_roff_option(f, list[i].name);
			if (list[i].type != CMD_T_FLAG)
				fprintf(f, " \\fI%s\\fR", list[i].meta);
		} else {
			fprintf(f, "\\fI%s\\fR", list[i].name);
		}
		fputc('\n', f);
		cmd_help_man_roff_text(f, list[i].help);
		fputc('\n', f);
	}
}

static void
cmd_help_man_entry(FILE *f, const struct cmd_entry *ce, unsigned form)
{
	fputs(".TP\n", f);
	if (form == CMD_RPC)
		cmd_help_rpc_signature(f, ce, 1);
	else
		cmd_help_word_signature(f, ce, form, 1);
	fputc('\n', f);
	fputc(toupper((unsigned char)ce->summary[0]), f);
	cmd_help_man_roff_text(f, ce->summary + 1);
	fputs(".\n", f);
	if (form == CMD_RPC) {
		/* Methods that are also commands are described above. */
		if (!(ce->where & (CMD_CLI | CMD_UI)))
			cmd_help_paragraphs(f, ce->help, 1);
		return;
	}
	if (ce->alias != NULL)
		fprintf(f, "Alias: \\fB%s\\fR.\n", ce->alias);
	cmd_help_paragraphs(f, ce->help, 1);
	if ((ce->options != NULL && ce->options[0].name != NULL) ||
	    (ce->args != NULL && ce->args[0].name != NULL)) {
		fputs(".RS\n", f);
		cmd_help_man_args(f, ce->options, 1);
		cmd_help_man_args(f, ce->args, 0);
		fputs(".RE\n", f);
	}
}

static void
cmd_help_man_group(FILE *f, const char *title, unsigned where)
{
	const struct cmd_entry *const *cep;

	fprintf(f, ".SS %s\n", title);
	for (cep = cmd_table; *cep != NULL; cep++) {
		if (!((*cep)->where & where) || ((*cep)->where & CMD_HIDDEN))
			continue;
		if (where == CMD_RPC && (*cep)->method == NULL)
			continue;
		cmd_help_man_entry(f, *cep, where);
	}
}

void
cmd_help_man_commands(FILE *f)
{
	fputs(".SH COMMANDS\n"
	      "This section is generated from sotto's command table by\n"
	      ".BR \"sotto \\-\\-man\\-commands\" .\n"
	      "Options of a command go before its\n"
	      ".I TEXT\n"
	      "argument, which takes the rest of the line.\n",
	      f);
	cmd_help_man_group(f, "Command line", CMD_CLI);
	cmd_help_man_group(f, "Slash commands", CMD_UI);
	fputs(".PP\n"
	      "The slash commands are typed in the full-screen interface; those also\n"
	      "listed above behave as their command-line form.\n",
	      f);
	cmd_help_man_group(f, "JSON\\-RPC methods", CMD_RPC);
	fputs(".PP\n"
	      "Parameters are named (params is an object); a trailing ? marks an optional\n"
	      "one. Methods that are also commands take the same arguments, named in\n"
	      "lower case.\n",
	      f);
}
