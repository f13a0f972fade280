/* Messaging commands: send, receive and read history. The engine answers
 * them (cmd_remote_exec is the CLI side); until the messaging core is
 * plugged in, it reports "not implemented yet". */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "profile.h"

static cmd_exec_fn cmd_message_recv_exec;

static const struct cmd_arg cmd_message_send_options[] = {
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as one line of JSON"},
    {"queue", CMD_T_FLAG, NULL, 0,
     "return once the message is stored and queued, without waiting for the relay"},
    {NULL, 0, NULL, 0, NULL},
};

static const struct cmd_arg cmd_message_send_args[] = {
    {"TO", CMD_T_STRING, NULL, 0, "the contact to send to"},
    {"TEXT", CMD_T_TEXT, NULL, CMD_A_STDIN,
     "the message: the rest of the command line, or - to read it from standard input"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_message_send_entry = {
    .name = "send",
    .options = cmd_message_send_options,
    .args = cmd_message_send_args,
    .summary = "send a message",
    .help = "Encrypts TEXT for every device of TO and of your own account and hands it "
            "to the relay; the command returns once the relay has stored it, or after 5 "
            "seconds with the message still \"sending\" (it goes out when the relay can "
            "be reached). With --queue it returns as soon as the message is stored, which "
            "suits a script sending many while the relay may be away. If TO's identity key "
            "changed and is not trusted, nothing is sent and the exit status is 3.",
    .where = CMD_CLI | CMD_RPC,
    .method = "send",
    .exec = cmd_remote_exec,
};

static const struct cmd_arg cmd_message_recv_options[] = {
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print one JSON object per message"},
    {"follow", CMD_T_FLAG, NULL, 0, "keep waiting for new messages"},
    {"timeout", CMD_T_INT, "S", 0, "wait at most S seconds for a message when none is pending"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_message_recv_entry = {
    .name = "recv",
    .options = cmd_message_recv_options,
    .summary = "print received messages",
    .help = "Prints the messages that arrived since they were last read, then exits, or "
            "with --follow keeps printing them as they arrive.",
    .where = CMD_CLI | CMD_RPC,
    .method = "recv",
    .exec = cmd_message_recv_exec,
};

static const struct cmd_arg cmd_message_history_options[] = {
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print one JSON object per message"},
    {"with", CMD_T_STRING, "NAME", 0, "only the conversation with NAME"},
    {"since", CMD_T_STRING, "TIME", 0,
     "only messages after TIME (ISO 8601, or a duration such as 2h or 3d)"},
    {"limit", CMD_T_INT, "N", 0, "at most the N most recent messages"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_message_history_entry = {
    .name = "history",
    .alias = "log",
    .options = cmd_message_history_options,
    .summary = "print stored messages",
    .help = "Prints messages from the profile's history, oldest first.",
    .where = CMD_CLI | CMD_RPC,
    .method = "history",
    .exec = cmd_remote_exec,
};

/* One "recv" call: print what it returns (and so move the engine's
 * cursor past it). Returns the exit status. */
static int
cmd_message_recv_once(struct cmd_ctx *ctx, const struct cmd_args *args, struct client *c)
{
	struct client_rpc_error re;
	json_t *result;
	struct err e;
	int r;

	r = client_call(c, "recv", json_object(), &result, &re, &e);
	if (r < 0)
		return cmd_remote_fail(ctx, &e);
	if (r > 0) {
		fprintf(ctx->err, "sotto: recv: %s\n", re.message);
		return cmd_exit_from_rpc(re.code);
	}
	cmd_remote_print(ctx, args, result);
	json_decref(result);
	return CMD_EXIT_OK;
}

/* An "event" notification announcing a message we received. */
static bool
cmd_message_is_incoming(json_t *note)
{
	json_t *params = json_object_get(note, "params");
	const char *type = json_string_value(json_object_get(params, "type"));
	json_t *msg = json_object_get(json_object_get(params, "data"), "message");
	const char *dir = json_string_value(json_object_get(msg, "direction"));

	return type != NULL && strcmp(type, "message") == 0 && dir != NULL &&
	       strcmp(dir, "in") == 0;
}

/* recv --follow: subscribe first, print the backlog, then fetch and print
 * each message as its event arrives. Fetching through "recv" (rather than
 * printing the event) keeps the engine's cursor right, so a later plain
 * recv never repeats what a follower printed. --timeout S ends it after S
 * seconds without a message. */
static int
cmd_message_recv_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *timeout = cmd_args_get(args, "timeout");
	struct client_rpc_error re;
	long long idle_s = -1;
	struct profile p;
	struct client c;
	json_t *result, *note;
	struct err e;
	int status, r;

	if (cmd_args_get(args, "follow") == NULL)
		return cmd_remote_exec(ctx, args);
	if (timeout != NULL && cmd_parse_count(timeout, &idle_s) < 0) {
		err_set(&e, ERR_INVALID, "recv: --timeout needs a number of seconds");
		return cmd_remote_fail(ctx, &e);
	}
	status = cmd_remote_profile(ctx, &p);
	if (status != CMD_EXIT_OK)
		return status;
	status = cmd_remote_attach(ctx, &p, &c, true);
	profile_clear(&p);
	if (status != CMD_EXIT_OK)
		return status;
	r = client_call(&c, "engine.subscribe",
	                json_pack("{s:O}", "cursor", json_object_get(c.info, "cursor")), &result,
	                &re, &e);
	if (r == 0)
		json_decref(result);
	else
		status = r < 0 ? cmd_remote_fail(ctx, &e) : cmd_exit_from_rpc(re.code);
	if (status == CMD_EXIT_OK)
		status = cmd_message_recv_once(ctx, args, &c);
	while (status == CMD_EXIT_OK) {
		r = client_next_notification(&c, idle_s >= 0 ? (int)(idle_s * 1000) : -1, &note,
		                             &e);
		if (r == 0)
			break; /* quiet for --timeout seconds */
		if (r < 0) {
			status = cmd_remote_fail(ctx, &e);
			break;
		}
		if (cmd_message_is_incoming(note))
			status = cmd_message_recv_once(ctx, args, &c);
		json_decref(note);
	}
	client_close(&c);
	return status;
}
