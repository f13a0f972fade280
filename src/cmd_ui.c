/* Slash commands that exist only inside the full-screen interface. They
 * are in the table so /help, completion and sotto(1) know them; the UI
 * runs them itself (exec is NULL). */
#include "cmd.h"

static const struct cmd_arg cmd_ui_msg_args[] = {
    {"NAME", CMD_T_STRING, NULL, 0, "the contact"},
    {"TEXT", CMD_T_TEXT, NULL, CMD_A_OPTIONAL, "a message to send straight away"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_ui_msg_entry = {
    .name = "msg",
    .args = cmd_ui_msg_args,
    .summary = "open the conversation with a contact",
    .help = "Switches to the conversation with NAME, opening it if needed, and sends TEXT "
            "there if given.",
    .where = CMD_UI,
};

const struct cmd_entry cmd_ui_close_entry = {
    .name = "close",
    .summary = "close the current conversation window",
    .help = "The conversation and its history stay; /msg opens it again.",
    .where = CMD_UI,
};

static const struct cmd_arg cmd_ui_search_args[] = {
    {"TEXT", CMD_T_TEXT, NULL, 0, "what to look for"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_ui_search_entry = {
    .name = "search",
    .args = cmd_ui_search_args,
    .summary = "search the history",
    .help = "Shows the messages containing TEXT, newest first, numbered; Ctrl-G opens each in "
            "turn in its conversation.",
    .where = CMD_UI,
};

const struct cmd_entry cmd_ui_quit_entry = {
    .name = "quit",
    .alias = "exit",
    .summary = "leave the full-screen interface",
    .help = "The engine keeps running while another frontend is attached, or when it was "
            "started by sotto daemon.",
    .where = CMD_UI,
};
