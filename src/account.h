/* The account half of the engine core: opening the profile's database
 * (key file at start, passphrase through "unlock"), registering a new
 * account on a relay, the relay connection's life, and key upkeep
 * (one-time prekey refill, signed prekey rotation, fetching peers'
 * bundles). core.h declares the entry points the other half uses; this
 * header adds what core.c and the tests call directly. */
#ifndef SOTTO_ACCOUNT_H
#define SOTTO_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "transport.h"
#include "util/err.h"

/* Refill one-time prekeys on the relay when fewer than this are left
 * (checked after every authentication, and on a keys.low push). */
#define ACCOUNT_PREKEY_LOW 20
#define ACCOUNT_PREKEY_BATCH 100
/* How often the signed prekey schedule is looked at while running. */
#define ACCOUNT_SPK_CHECK_MS (60 * 60 * 1000)
/* "contacts.add" answers "cannot reach the relay" after this long. */
#define ACCOUNT_ADD_TIMEOUT_MS 5000

/* Keys of the profile's kv table owned by this module. */
#define ACCOUNT_KV_NAME "account.name"             /* blob: account name */
#define ACCOUNT_KV_DEVICE "account.device"         /* int */
#define ACCOUNT_KV_RELAY "account.relay"           /* blob: relay URL */
#define ACCOUNT_KV_SECRET "account.secret"         /* blob: 32-byte device secret */
#define ACCOUNT_KV_PIN "account.relay_pin"         /* blob: 32-byte SHA-256, optional */
#define ACCOUNT_KV_REGISTERED "account.registered" /* int: 1 once the relay said so */
#define ACCOUNT_KV_NEXT_PREKEY "account.next_prekey_id"
#define ACCOUNT_KV_NEXT_SPK "account.next_signed_prekey_id"
#define ACCOUNT_KV_SPK_UPLOADED "account.signed_prekey_uploaded" /* int: id */

struct account_register_params {
	const char *name;       /* account name (wire_name_valid) */
	const char *relay;      /* ws:// or wss:// URL */
	bool keyfile;           /* key file instead of a passphrase */
	const char *passphrase; /* required unless keyfile; not kept */
	size_t passphrase_len;
	const char *token; /* registration token, NULL when none */
	/* wss:// with a self-signed certificate: its SHA-256 fingerprint,
	 * kept in the profile and checked on every connection. */
	bool has_pin;
	uint8_t pin[32];
};

/* Parse a certificate fingerprint: 64 hex digits, optionally in pairs
 * separated by ':' (as `openssl x509 -fingerprint -sha256` prints it). */
int account_parse_pin(const char *s, uint8_t out[32], struct err *e);

/* Called by core_new after msg_init: when account_init opened the
 * database (key file), tell msg.c and connect. */
void account_start(struct core *c);
/* Close the relay connection first of all at shutdown, so that pending
 * requests fail (ERR_NETWORK) while msg.c still exists. */
void account_stop(struct core *c);

/* Open the database with pass, then unlock the engine, tell msg.c and
 * connect. ERR_BADKEY for a wrong passphrase (nothing changed),
 * ERR_NOTFOUND when the profile has no database (register first). A
 * database already open is success. Runs the KDF: takes about a second. */
int account_unlock(struct core *c, const char *pass, size_t len, struct err *e);

/* The "unlock" method's way: the same as account_unlock, but Argon2id
 * runs on a worker thread while the loop serves everyone else; the
 * database is opened back on the loop. 0: started, and done() runs once
 * later from the loop with the outcome (or at once, from here, when the
 * database is already open). -1 at once with ERR_BUSY (an unlock or a
 * registration under way), ERR_NOTFOUND (no account) or ERR_BADKEY. */
int account_unlock_start(struct core *c, const char *pass, size_t len, account_done_fn *done,
                         void *arg, struct err *e);
/* An unlock is deriving its key now. */
bool account_unlocking(const struct core *c);

/* Create the profile (database, identity, prekeys, device secret),
 * register p->name on p->relay and upload the prekeys. With the database
 * already open and an unfinished registration of p->name in it, send the
 * keys made then instead (p->passphrase and p->keyfile are ignored; the
 * relay URL and pin may differ). -1 when it fails at once (ERR_INVALID bad
 * name/URL/missing passphrase, ERR_EXISTS registered already or an
 * unfinished registration of another name, ERR_AUTH a database that is
 * still locked). Otherwise 0 and done() runs once from the loop: rc 0
 * (registered and connected), or -1 with ERR_EXISTS (name taken),
 * ERR_NETWORK, ERR_AUTH (registration closed), ERR_RATE... The files are
 * removed again only when the relay's answer proves it never took the
 * keys (a new profile refused; "name taken" where the stored secret does
 * not authenticate); otherwise the profile keeps them for the next try. */
int account_register(struct core *c, const struct account_register_params *p, account_done_fn *done,
                     void *arg, struct err *e);

/* A registration that was started in this profile but not finished (the
 * relay's answer never came, or the engine stopped before it recorded
 * it): 1 with the name and relay URL it was for (both the caller's), 0
 * when there is none (or no open database). "register" with that name
 * finishes it with the same keys. */
int account_unfinished(struct core *c, char **name, char **relay, struct err *e);

/* Ask the relay how many one-time prekeys are left and upload a new batch
 * below ACCOUNT_PREKEY_LOW. done may be NULL; it runs once with the
 * outcome. -1 (ERR_NETWORK) when not connected. */
int account_check_prekeys(struct core *c, account_done_fn *done, void *arg, struct err *e);
/* Apply the signed prekey schedule now: rotate when due, upload a key
 * the relay has not got yet, drop keys past their grace period. done may
 * be NULL. */
int account_check_signed_prekey(struct core *c, uint64_t now_ms, account_done_fn *done, void *arg,
                                struct err *e);

/* For tests: the Argon2id cost of databases register creates (0, 0: the
 * default), and transport tuning (keepalive_ms, request_timeout_ms,
 * backoff_*_ms of t; the rest ignored) for connections made from now on. */
void account_set_kdf_cost(struct core *c, unsigned long long opslimit, size_t memlimit);
void account_set_transport_tuning(struct core *c, const struct transport_config *t);
/* For tests: the unlock thread, once its key is derived, waits until it
 * reads a byte from fd (-1: no wait), so a test holds an unlock "under
 * way" for as long as it needs. */
void account_set_unlock_gate(struct core *c, int fd);

/* "offline", "connecting", "connected", "auth_failed", "replaced". */
const char *account_conn_name(enum core_conn state);

#endif
