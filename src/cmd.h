/* The one command table (tmux's cmd_entry model). Each entry says what a
 * command takes, how it is documented, where it exists (command line, UI
 * slash command, JSON-RPC method) and what runs it; CLI dispatch, usage
 * errors, --help, /help, tab completion, the JSON-RPC parameter checks
 * and the COMMANDS section of sotto(1) are all derived from it. */
#ifndef SOTTO_CMD_H
#define SOTTO_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

/* Exit statuses, listed in sotto(1) under EXIT STATUS (a test checks). */
enum cmd_exit {
	CMD_EXIT_OK = 0,
	CMD_EXIT_UNTRUSTED = 3,    /* a contact's identity changed and is not trusted */
	CMD_EXIT_USAGE = 64,       /* bad command line */
	CMD_EXIT_DATA = 65,        /* invalid input data */
	CMD_EXIT_NOTFOUND = 66,    /* no such contact, file or profile */
	CMD_EXIT_UNAVAILABLE = 69, /* not available (in this build, or yet) */
	CMD_EXIT_SOFTWARE = 70,    /* internal error: a bug */
	CMD_EXIT_TEMPFAIL = 75,    /* network or engine trouble: try again */
	CMD_EXIT_AUTH = 77,        /* wrong passphrase, locked, unsafe permissions */
};

struct cmd_exit_info {
	int code;
	const char *meaning;
};
/* Every enum cmd_exit value with its documented meaning; ends with NULL. */
extern const struct cmd_exit_info cmd_exit_table[];

int cmd_exit_from_err(enum err_code code);
int cmd_exit_from_rpc(int jsonrpc_code);

/* Where a command exists. CMD_HIDDEN entries dispatch but are never listed
 * (help, completion, man page). */
enum cmd_where {
	CMD_CLI = 1,
	CMD_UI = 2,
	CMD_RPC = 4,
	CMD_HIDDEN = 8,
};

enum cmd_type {
	CMD_T_FLAG, /* option without a value; JSON true */
	CMD_T_STRING,
	CMD_T_INT,  /* non-negative integer */
	CMD_T_PATH, /* made absolute before it reaches the engine */
	CMD_T_TEXT, /* last positional: the rest of the line */
};

#define CMD_A_OPTIONAL 0x1 /* positional that may be left out */
#define CMD_A_LOCAL 0x2    /* frontend-only: never sent as a parameter */
#define CMD_A_STDIN 0x4    /* "-" means read the value from standard input */
#define CMD_A_REQUIRED 0x8 /* option that must be given */
/* JSON-RPC parameter with no command-line form: the CLI fills it itself
 * (a passphrase read from a file or a prompt: never argv). Not listed in
 * help; the RPC signature shows it. */
#define CMD_A_RPC_ONLY 0x10

/* An option (name is its long name: "relay" for --relay) or a positional
 * (name is its placeholder: "TO"). Its JSON-RPC parameter is the name in
 * lower case with '-' turned into '_'. */
struct cmd_arg {
	const char *name;
	enum cmd_type type;
	const char *meta; /* options with a value: placeholder ("URL") */
	int flags;
	const char *help;
};

#define CMD_ARGS_MAX 8

struct cmd_entry;

/* The parsed words of one command; values are owned and freed by
 * cmd_args_clear(). */
struct cmd_args {
	const struct cmd_entry *entry;
	char *opt[CMD_ARGS_MAX]; /* per entry->options[i]; flags hold "1" */
	char *pos[CMD_ARGS_MAX]; /* per entry->args[i] */
	bool help;               /* --help was among the words: show, don't run */
};

/* What a CLI handler runs with: the global options and the streams it
 * may use (tests point them at memory). */
struct core;
struct engine;

struct cmd_ctx {
	char *home;            /* --home */
	char *profile;         /* --profile */
	char *passphrase_file; /* --passphrase-file */
	FILE *in, *out, *err;
	/* What an engine started from here runs: main() plugs the messaging
	 * core in (src/core.h); left NULL, the engine serves only engine.*. */
	struct core *(*core_new)(struct engine *eng, struct err *e);
	void (*core_free)(struct core *core);
	/* Plain "sotto" (no command): main() plugs in the full-screen
	 * interface (ui/app.h), which src/ must not depend on. */
	int (*ui_main)(struct cmd_ctx *ctx);
	/* The conversation ui_main opens first (sotto demo: "echo"), or
	 * NULL for the status window. Not owned. */
	const char *ui_open;
};

typedef int cmd_exec_fn(struct cmd_ctx *ctx, const struct cmd_args *args);

struct cmd_entry {
	const char *name;
	const char *alias;             /* or NULL */
	const struct cmd_arg *options; /* {NULL}-terminated, or NULL */
	const struct cmd_arg *args;    /* positionals, {NULL}-terminated, or NULL */
	const char *summary;           /* one line, lower case, no full stop */
	const char *help;              /* paragraphs separated by blank lines */
	unsigned where;                /* enum cmd_where bits */
	const char *method;            /* JSON-RPC method, or NULL */
	cmd_exec_fn *exec;             /* CLI handler; NULL for UI/RPC-only */
};

/* Every command, in help order, NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];
/* The options accepted before (and after) any command. */
extern const struct cmd_arg cmd_global_options[];

/* By name or alias, restricted to entries available in where (a mask);
 * hidden entries are found too. NULL when there is none. */
const struct cmd_entry *cmd_find(const char *name, unsigned where);
const struct cmd_entry *cmd_find_method(const char *method);
/* Names (and aliases) of listed commands available in where that start
 * with prefix, sorted; up to max of them go to out. Returns how many
 * match in all. */
size_t cmd_complete(const char *prefix, unsigned where, const char **out, size_t max);

/* Parse a command's words (argv after the command name). Global options
 * may appear among them and are stored in ctx. Usage errors are ERR_INVALID
 * with a message naming the problem. */
int cmd_parse_argv(const struct cmd_entry *ce, int argc, char **argv, struct cmd_ctx *ctx,
                   struct cmd_args *a, struct err *e);
/* Parse a UI input line ("/msg bob hi  there"): the command word, then its
 * words; a TEXT positional takes the rest of the line exactly as typed. */
int cmd_parse_line(const char *line, unsigned where, struct cmd_args *a, struct err *e);
void cmd_args_clear(struct cmd_args *a);
/* Value of an option (by long name) or positional (by placeholder). */
const char *cmd_args_get(const struct cmd_args *a, const char *name);

/* A non-negative decimal number, all of s. */
int cmd_parse_count(const char *s, long long *out);

/* cmd_params.c: JSON-RPC params for a parsed command: local options
 * dropped, integers as numbers, flags as true, paths absolute, "-" read
 * from in when the argument allows it. The caller owns the object. */
json_t *cmd_params_from_args(const struct cmd_args *a, FILE *in, struct err *e);
/* Check params against ce's argument spec: an object (or absent), every
 * member known and of the right type, every required one present. */
int cmd_params_check(const struct cmd_entry *ce, json_t *params, struct err *e);
/* The parameter name of an argument (see struct cmd_arg). */
void cmd_params_key(const struct cmd_arg *arg, char *buf, size_t size);

/* The whole command line: global options, the command, its arguments.
 * Returns the exit status. ctx's streams must be set; the caller clears
 * ctx afterwards with cmd_ctx_clear(). */
int cmd_run(struct cmd_ctx *ctx, int argc, char **argv);
void cmd_ctx_clear(struct cmd_ctx *ctx);

/* cmd_help.c: text derived from the table. Strings are the caller's. */
char *cmd_help_usage(const struct cmd_entry *ce, unsigned where);
char *cmd_help_text(const struct cmd_entry *ce, unsigned where);
void cmd_help_overview(FILE *f);
void cmd_help_man_commands(FILE *f);

/* cmd_remote.c: the handler of every command the engine answers. */
struct client;
struct profile;
int cmd_remote_exec(struct cmd_ctx *ctx, const struct cmd_args *args);
/* Attach (unlocking first when asked), call the entry's method with params
 * (taken over), print the answer. Returns the exit status. */
int cmd_remote_call(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *params, bool unlock);
/* The same without printing: *result is the caller's on CMD_EXIT_OK. */
int cmd_remote_fetch(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *params, bool unlock,
                     json_t **result);
/* Print a method's result as the command's --json or text output. */
void cmd_remote_print(struct cmd_ctx *ctx, const struct cmd_args *args, json_t *result);
/* Report a failure as "sotto: ...", returning the matching exit status. */
int cmd_remote_fail(struct cmd_ctx *ctx, const struct err *e);
/* The same for an error answer of method. */
struct client_rpc_error;
int cmd_remote_rpc_fail(struct cmd_ctx *ctx, const char *method, const struct client_rpc_error *re);
/* Resolve and prepare the profile from the global options. Returns an
 * exit status (CMD_EXIT_OK or the failure, already reported). */
int cmd_remote_profile(struct cmd_ctx *ctx, struct profile *p);
/* Attach c to the profile's engine, starting it when needed; with unlock,
 * also unlock the profile if the engine says it is locked. Returns an exit
 * status, the failure already reported; on success c must be closed. */
int cmd_remote_attach(struct cmd_ctx *ctx, struct profile *p, struct client *c, bool unlock);

/* The entries, one per command, defined in the cmd_*.c files. */
extern const struct cmd_entry cmd_account_register_entry;
extern const struct cmd_entry cmd_account_unlock_entry;
extern const struct cmd_entry cmd_account_status_entry;
extern const struct cmd_entry cmd_message_send_entry;
extern const struct cmd_entry cmd_message_recv_entry;
extern const struct cmd_entry cmd_message_history_entry;
extern const struct cmd_entry cmd_contact_contacts_entry;
extern const struct cmd_entry cmd_contact_add_entry;
extern const struct cmd_entry cmd_contact_safety_entry;
extern const struct cmd_entry cmd_contact_trust_entry;
extern const struct cmd_entry cmd_engine_rpc_entry;
extern const struct cmd_entry cmd_engine_daemon_entry;
extern const struct cmd_entry cmd_engine_engine_entry;
extern const struct cmd_entry cmd_engine_info_entry;
extern const struct cmd_entry cmd_engine_subscribe_entry;
extern const struct cmd_entry cmd_engine_shutdown_entry;
extern const struct cmd_entry cmd_engine_persist_entry;
extern const struct cmd_entry cmd_demo_entry;
extern const struct cmd_entry cmd_info_help_entry;
extern const struct cmd_entry cmd_info_version_entry;
extern const struct cmd_entry cmd_ui_msg_entry;
extern const struct cmd_entry cmd_ui_close_entry;
extern const struct cmd_entry cmd_ui_search_entry;
extern const struct cmd_entry cmd_ui_quit_entry;

#endif
