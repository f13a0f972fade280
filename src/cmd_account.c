/* Account commands: registering a profile on a relay (or finishing a
 * registration that was interrupted), and the unlock method that hands the
 * engine the database passphrase over the socket (never argv or the
 * environment). */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "jsonrpc.h"
#include "profile.h"

static cmd_exec_fn cmd_account_register_exec;

static const struct cmd_arg cmd_account_register_options[] = {
    {"relay", CMD_T_STRING, "URL", CMD_A_REQUIRED,
     "the relay to register with, e.g. wss://relay.example:8443"},
    {"keyfile", CMD_T_FLAG, NULL, 0,
     "protect the database with a generated key file (mode 0600, in the profile "
     "directory) instead of a passphrase, for unattended use"},
    {"pin", CMD_T_STRING, "SHA256", 0,
     "accept only the relay certificate with this SHA-256 fingerprint (64 hex digits, "
     "colons allowed); a self-signed certificate is then fine"},
    {"token-file", CMD_T_PATH, "FILE", CMD_A_LOCAL,
     "read the invitation token a relay run with --registration token:FILE asks for "
     "from the first line of FILE"},
    {"json", CMD_T_FLAG, NULL, CMD_A_LOCAL, "print the result as one line of JSON"},
    {"passphrase", CMD_T_STRING, NULL, CMD_A_RPC_ONLY,
     "the new profile's passphrase (the CLI reads it from --passphrase-file or a prompt)"},
    {"token", CMD_T_STRING, NULL, CMD_A_RPC_ONLY, "the relay's invitation token"},
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
            "by a key file with --keyfile. A new passphrase is asked for twice on a "
            "terminal; without one, --passphrase-file is required.\n\n"
            "When a registration is interrupted (the relay cannot be reached: exit status "
            "75; or sotto is killed before the answer is recorded), the profile keeps its "
            "new keys. Running the same command again finishes the registration with "
            "them, also when the relay had already taken them, and unlocks the profile "
            "with its passphrase first. Only a refusal that proves the relay never took "
            "the keys (the name belongs to another account) removes them, so that "
            "another name can be tried. A profile that is registered already is refused "
            "with exit status 65.",
    .where = CMD_CLI | CMD_RPC,
    .method = "register",
    .exec = cmd_account_register_exec,
};

/* A new profile's passphrase: from --passphrase-file, or typed twice on a
 * terminal. Never from argv, and never a prompt without a terminal. */
static int
cmd_account_new_passphrase(struct cmd_ctx *ctx, char **out, struct err *e)
{
	char *again;
	int same;

	if (ctx->passphrase_file != NULL)
		return client_read_passphrase_file(ctx->passphrase_file, out, e);
	if (!isatty(0))
		return err_set(e, ERR_AUTH,
		               "register needs --passphrase-file FILE or --keyfile (sotto never "
		               "prompts when standard input is not a terminal)");
	if (client_prompt_passphrase("New passphrase", out, e) < 0)
		return -1;
	if (client_prompt_passphrase("Repeat the passphrase", &again, e) < 0) {
		wipe_free_str(*out);
		return -1;
	}
	same = strcmp(*out, again) == 0;
	wipe_free_str(again);
	if (!same) {
		wipe_free_str(*out);
		return err_set(e, ERR_AUTH, "the two passphrases differ; nothing was created");
	}
	return 0;
}

/* The first line of a token file, without its line end. */
static int
cmd_account_read_token(const char *path, char **out, struct err *e)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return err_set(e, ERR_NOTFOUND, "%s: cannot open the token file", path);
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0) {
		wipe_free(line, cap);
		return err_set(e, ERR_INVALID, "%s: the token file is empty", path);
	}
	*out = line;
	return 0;
}

/* What the profile already holds, as the engine sees it: 1 when it has a
 * database (a registered account, or a registration to finish with the
 * keys made then), 0 when register starts from nothing. A locked profile
 * is unlocked first, with the passphrase it already has. */
static int
cmd_account_existing(struct cmd_ctx *ctx, struct client *c, int *status)
{
	struct client_rpc_error re;
	json_t *st = NULL;
	struct err e;
	int r, has;

	if (json_is_true(json_object_get(c->info, "locked"))) {
		r = client_unlock_if_locked(c, ctx->passphrase_file, &re, &e);
		if (r < 0) {
			err_prefix(&e, "register: this profile already has a database, which only "
			               "its passphrase opens");
			*status = cmd_remote_fail(ctx, &e);
			return -1;
		}
		/* Not found: a database whose creation never finished, which
		 * the engine removed; register starts from nothing. */
		if (r > 0 && re.code != JSONRPC_NOT_FOUND) {
			*status = cmd_remote_rpc_fail(ctx, "register", &re);
			return -1;
		}
	}
	r = client_call(c, "status", NULL, &st, &re, &e);
	if (r != 0) {
		*status =
		    r > 0 ? cmd_remote_rpc_fail(ctx, "status", &re) : cmd_remote_fail(ctx, &e);
		return -1;
	}
	has = json_is_true(json_object_get(st, "registered")) ||
	      json_is_object(json_object_get(st, "unfinished"));
	json_decref(st);
	return has;
}

static int
cmd_account_register_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *token_file = cmd_args_get(args, "token-file");
	struct client_rpc_error re;
	struct profile p;
	struct client c;
	json_t *params, *result;
	char *secret;
	struct err e;
	int status, existing, r;

	params = cmd_params_from_args(args, ctx->in, &e);
	if (params == NULL)
		return cmd_remote_fail(ctx, &e);
	if (token_file != NULL) {
		if (cmd_account_read_token(token_file, &secret, &e) < 0) {
			json_decref(params);
			return cmd_remote_fail(ctx, &e);
		}
		json_object_set_new(params, "token", json_string(secret));
		wipe_free_str(secret);
	}
	status = cmd_remote_profile(ctx, &p);
	if (status == CMD_EXIT_OK) {
		status = cmd_remote_attach(ctx, &p, &c, false);
		profile_clear(&p);
	}
	if (status != CMD_EXIT_OK) {
		json_decref(params);
		return status;
	}
	/* An existing profile needs no new passphrase: the engine refuses a
	 * second account, or finishes an interrupted registration with the
	 * keys (and database) it made then. */
	existing = cmd_account_existing(ctx, &c, &status);
	if (existing < 0)
		goto out;
	if (!existing && cmd_args_get(args, "keyfile") == NULL) {
		if (cmd_account_new_passphrase(ctx, &secret, &e) < 0) {
			status = cmd_remote_fail(ctx, &e);
			goto out;
		}
		json_object_set_new(params, "passphrase", json_string(secret));
		wipe_free_str(secret);
	}
	r = client_call(&c, "register", params, &result, &re, &e);
	params = NULL;
	if (r < 0) {
		status = cmd_remote_fail(ctx, &e);
	} else if (r > 0) {
		status = cmd_remote_rpc_fail(ctx, "register", &re);
	} else {
		cmd_remote_print(ctx, args, result);
		json_decref(result);
	}
out:
	json_decref(params);
	client_close(&c);
	return status;
}

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
            "ever travels over the profile's private socket.\n\n"
            "The key is derived (Argon2id: a second or more) off the engine's event loop: "
            "other frontends are answered meanwhile, and status says \"unlocking\": true. "
            "A second unlock while one is under way is refused (data.reason \"busy\"). A "
            "wrong passphrase is data.reason \"badkey\" and changes nothing.",
    .where = CMD_RPC,
    .method = "unlock",
};

const struct cmd_entry cmd_account_status_entry = {
    .name = "status",
    .summary = "describe the profile's account and its relay connection",
    .help = "Answers {account, device, relay, connection, locked, unlocking, registered, "
            "unfinished}: connection is offline, connecting, connected, auth_failed or "
            "replaced; unlocking is true while an unlock derives its key. unfinished is "
            "null, or {account, relay} when a registration was interrupted (its keys are "
            "kept): register with that account name finishes it. Answered while the "
            "profile is locked too (account, device and relay are then null).",
    .where = CMD_RPC,
    .method = "status",
};
