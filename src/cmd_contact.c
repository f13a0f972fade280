/* Contact commands: list and add contacts, show a safety number, trust a
 * key. The engine's core answers them. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qr.h"
#include "wire/b64.h"

static cmd_exec_fn cmd_contact_safety_exec;

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

static const struct cmd_arg cmd_contact_add_args[] = {
    {"NAME", CMD_T_STRING, NULL, 0, "the account name to add"},
    {NULL, 0, NULL, 0, NULL},
};

const struct cmd_entry cmd_contact_add_entry = {
    .name = "add",
    .options = cmd_contact_json_option,
    .args = cmd_contact_add_args,
    .summary = "add a contact after asking the relay that NAME exists",
    .help = "Asks the relay for NAME's keys: when the account exists it becomes a contact "
            "(and the interface opens its conversation); the sessions built from those "
            "keys serve the first message. A name the relay does not know is an error "
            "(exit status 66, JSON-RPC error -32003) and nothing is added. When the relay "
            "cannot be reached, or does not answer within 5 seconds, nothing is added "
            "either (exit status 75). Adding a contact again changes nothing and asks the "
            "relay nothing. Answers {name, added}: added is false for a contact known "
            "already.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "contacts.add",
    .exec = cmd_remote_exec,
};

const struct cmd_entry cmd_contact_safety_entry = {
    .name = "safety",
    .options = cmd_contact_json_option,
    .args = cmd_contact_name_arg,
    .summary = "show the safety number shared with a contact",
    .help = "Prints the 60-digit safety number for you and NAME, in 12 groups of 5 "
            "digits. When standard output is a terminal, the command line also draws its "
            "scannable form as a QR code under the digits (the full-screen interface's "
            "/safety shows the digits only). Compare the number with NAME over another "
            "channel (in person, on a call), or let NAME scan the code; if it matches, "
            "run trust with --verified.\n\n"
            "With --json, or when standard output is not a terminal, it prints the "
            "method's answer instead: digits, groups, scannable (base64) and verified.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "safety",
    .exec = cmd_contact_safety_exec,
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
            "you accept the new key. The same goes for a verified contact's new device "
            "whose key is not the one you verified. Without --verified the key is accepted "
            "unverified.\n\n"
            "With --verified DIGITS (spaces and dashes ignored), DIGITS must be the safety "
            "number safety shows; the key is then accepted and NAME marked verified. When "
            "the digits do not match, nothing changes (the key is neither accepted nor "
            "verified) and the exit status is 65 (JSON-RPC error -32006, data.reason "
            "\"crypto\"), so that a script can tell a safety number that does not match "
            "from a wrong command line (64) or an unknown contact (66). After an identity "
            "change that blocks sending, accept the new key first: --verified is then "
            "refused with exit status 3 and nothing changes.",
    .where = CMD_CLI | CMD_UI | CMD_RPC,
    .method = "trust",
    .exec = cmd_remote_exec,
};

/* The safety number as 12 groups of 5 digits, then, on a terminal, the
 * scannable form as a QR code. --json prints the method's answer. */
static int
cmd_contact_safety_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *groups, *scan;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	json_t *params, *result;
	struct err e;
	int status;

	if (cmd_args_get(args, "json") != NULL || !isatty(fileno(ctx->out)))
		return cmd_remote_exec(ctx, args);
	params = cmd_params_from_args(args, ctx->in, &e);
	if (params == NULL)
		return cmd_remote_fail(ctx, &e);
	status = cmd_remote_fetch(ctx, args, params, true, &result);
	if (status != CMD_EXIT_OK)
		return status;
	groups = json_string_value(json_object_get(result, "groups"));
	scan = json_string_value(json_object_get(result, "scannable"));
	fprintf(ctx->out, "Safety number with %s%s:\n\n  %s\n\n", cmd_args_get(args, "NAME"),
	        json_is_true(json_object_get(result, "verified")) ? " (verified)" : "",
	        groups != NULL ? groups : "?");
	if (scan != NULL && b64_decode(scan, strlen(scan), &raw, &raw_len, &e) == 0) {
		if (qr_print(ctx->out, raw, raw_len, &e) < 0)
			fprintf(ctx->err, "sotto: %s\n", e.msg);
		free(raw);
	}
	fprintf(ctx->out,
	        "\nCompare the digits with %s in person or on a call, or scan the "
	        "code; if they match: sotto trust %s --verified DIGITS\n",
	        cmd_args_get(args, "NAME"), cmd_args_get(args, "NAME"));
	json_decref(result);
	return CMD_EXIT_OK;
}
