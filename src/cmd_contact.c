/* Contact commands: list contacts, show a safety number, trust a key.
 * Answered by the engine's messaging core once it is plugged in. */
#include "cmd.h"

static const struct cmd_arg cmd_contact_json_option[] = {
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as JSON"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_contact_contacts_entry = {
    .name = "contacts",
    .options = cmd_contact_json_option,
    .summary = "list contacts",
    .help = "Lists every contact with its trust state and devices.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "contacts",
    .exec = cmd_remote_exec,
};

static const struct cmd_arg cmd_contact_name_arg[] = {
    {"NAME", CMD_T_STRING, NULL, 0, "the contact"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_contact_safety_entry = {
    .name = "safety",
    .options = cmd_contact_json_option,
    .args = cmd_contact_name_arg,
    .summary = "show the safety number shared with a contact",
    .help = "Prints the 60-digit safety number for you and NAME. Compare it with NAME "
            "over another channel (in person, on a call); if it matches, run trust with "
            "--verified.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "safety",
    .exec = cmd_remote_exec,
};

static const struct cmd_arg cmd_contact_trust_options[] = {
    {"verified", CMD_T_STRING, "DIGITS", 0,
     "the safety number as compared; it must match, and the contact is then marked "
     "verified"},
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as JSON"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_contact_trust_entry = {
    .name = "trust",
    .options = cmd_contact_trust_options,
    .args = cmd_contact_name_arg,
    .summary = "accept a contact's current identity key",
    .help = "After a contact's identity key changed, messages to them are held back until "
            "you accept the new key. Without --verified the key is accepted unverified.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "trust",
    .exec = cmd_remote_exec,
};
