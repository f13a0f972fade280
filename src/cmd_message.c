/* Messaging commands: send, receive and read history. The engine answers
 * them (cmd_remote_exec is the CLI side); until the messaging core is
 * plugged in, it reports "not implemented yet". */
#include "cmd.h"

static const struct cmd_arg cmd_message_send_options[] = {
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as one line of JSON"},
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
            "to the relay; the command returns once the relay has stored it. If TO's "
            "identity key changed and is not trusted, nothing is sent and the exit status "
            "is 3.",
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
    .exec = cmd_remote_exec,
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
