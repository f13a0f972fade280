/* Account commands: registering a profile on a relay, and the unlock
 * method that hands the engine the database passphrase over the socket
 * (never argv or the environment). The engine's messaging core answers
 * both; until it is plugged in they report "not implemented yet". */
#include "cmd.h"

static const struct cmd_arg cmd_account_register_options[] = {
    {"relay", CMD_T_STRING, "URL", CMD_A_REQUIRED,
     "the relay to register with, e.g. wss://relay.example:8443"},
    {"keyfile", CMD_T_FLAG, NULL, 0,
     "protect the database with a generated key file (mode 0600, in the profile "
     "directory) instead of a passphrase, for unattended use"},
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as one line of JSON"},
    {NULL, 0, NULL, 0, NULL},
};

static const struct cmd_arg cmd_account_register_args[] = {
    {"NAME", CMD_T_STRING, NULL, 0, "the account name others will address you by"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_account_register_entry = {
    .name = "register",
    .options = cmd_account_register_options,
    .args = cmd_account_register_args,
    .summary = "create this profile's account on a relay",
    .help = "Creates the profile's identity keys and database, registers NAME with the "
            "relay and uploads prekeys. The database is protected by the passphrase read "
            "from --passphrase-file (or asked for when standard input is a terminal), or "
            "by a key file with --keyfile.",
    .where = CMD_CLI | CMD_RPC,
    .method = "register",
    .exec = cmd_remote_exec,
};

static const struct cmd_arg cmd_account_unlock_args[] = {
    {"PASSPHRASE", CMD_T_STRING, NULL, 0, "the profile's passphrase"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_account_unlock_entry = {
    .name = "unlock",
    .args = cmd_account_unlock_args,
    .summary = "give the engine the passphrase that opens the profile's database",
    .help = "Frontends call this when engine.info reports \"locked\": true, with the "
            "passphrase from --passphrase-file or a terminal prompt. The passphrase only "
            "ever travels over the profile's private socket.",
    .where = CMD_RPC,
    .method = "unlock",
};
