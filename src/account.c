/* The account half of the engine core: opening the profile database (at
 * start with a key file, or through "unlock", whose Argon2id runs on a
 * worker thread), the relay connection and its state as frontends see it,
 * and the "unlock" and "status" methods. Registration is in
 * account_register.c, key upkeep and "contacts.add" in account_keys.c. */
#include "account_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/cprov.h"
#include "store/db.h"
#include "store/kdf.h"
#include "store/kv.h"
#include "store/sigstore.h"

#define ACCOUNT_PASSPHRASE_MAX 4096

const char *
account_conn_name(enum core_conn state)
{
	switch (state) {
	case CORE_CONN_OFFLINE:
		return "offline";
	case CORE_CONN_CONNECTING:
		return "connecting";
	case CORE_CONN_CONNECTED:
		return "connected";
	case CORE_CONN_AUTH_FAILED:
		return "auth_failed";
	case CORE_CONN_REPLACED:
		return "replaced";
	}
	return "offline";
}

void
account_set_conn(struct core *c, enum core_conn state)
{
	if (c->conn == state)
		return;
	c->conn = state;
	engine_emit(c->eng, "connection", json_pack("{s:s}", "state", account_conn_name(state)));
}

void
account_set_kdf_cost(struct core *c, unsigned long long opslimit, size_t memlimit)
{
	c->account->kdf_ops = opslimit;
	c->account->kdf_mem = memlimit;
}

void
account_set_transport_tuning(struct core *c, const struct transport_config *t)
{
	c->account->tuning.keepalive_ms = t->keepalive_ms;
	c->account->tuning.request_timeout_ms = t->request_timeout_ms;
	c->account->tuning.backoff_min_ms = t->backoff_min_ms;
	c->account->tuning.backoff_max_ms = t->backoff_max_ms;
}

void
account_tune(struct core *c, struct transport_config *cfg)
{
	const struct transport_config *t = &c->account->tuning;

	cfg->keepalive_ms = t->keepalive_ms;
	cfg->request_timeout_ms = t->request_timeout_ms;
	cfg->backoff_min_ms = t->backoff_min_ms;
	cfg->backoff_max_ms = t->backoff_max_ms;
}

/* ---- the transport's hooks ---- */

static void
account_on_state(void *ctx, enum transport_state st, const struct err *why)
{
	struct core *c = ctx;

	if (c->account->reg != NULL) {
		account_reg_on_state(c, st, why);
		return;
	}
	switch (st) {
	case TRANSPORT_OFFLINE:
	case TRANSPORT_FAILED:
		account_set_conn(c, CORE_CONN_OFFLINE);
		break;
	case TRANSPORT_CONNECTING:
		account_set_conn(c, CORE_CONN_CONNECTING);
		break;
	case TRANSPORT_CONNECTED:
		account_set_conn(c, CORE_CONN_CONNECTED);
		account_keys_on_connected(c);
		msg_on_connected(c);
		break;
	case TRANSPORT_AUTH_FAILED:
	case TRANSPORT_REMOVED:
		account_set_conn(c, CORE_CONN_AUTH_FAILED);
		break;
	case TRANSPORT_REPLACED:
		account_set_conn(c, CORE_CONN_REPLACED);
		break;
	}
}

static void
account_on_envelope(void *ctx, const struct wire_envelope *env)
{
	struct core *c = ctx;

	/* During registration nothing can be queued for us yet. */
	if (c->account->reg == NULL)
		msg_on_envelope(c, env);
}

static void
account_on_push(void *ctx, const struct wire_frame *push)
{
	struct core *c = ctx;

	if (push->push == WIRE_P_KEYS_LOW)
		account_keys_on_low(c);
	else if (push->push == WIRE_P_QUEUE_EMPTY && c->account->reg == NULL)
		msg_on_queue_empty(c);
}

const struct transport_hooks account_hooks = {
    .on_state = account_on_state,
    .on_envelope = account_on_envelope,
    .on_push = account_on_push,
};

/* ---- database ---- */

static int
account_kv_string(struct db *db, const char *key, char **out, struct err *e)
{
	unsigned char *v;
	size_t len;

	if (kv_get_blob(db, key, &v, &len, e) < 0)
		return -1;
	*out = xstrndup((const char *)v, len);
	free(v);
	return 0;
}

/* Who we are, when the registration completed. */
static int
account_load_identity(struct core *c, struct err *e)
{
	int64_t registered = 0, device = 0;
	struct err ne = {0};

	if (kv_get_int(c->db, ACCOUNT_KV_REGISTERED, 0, &registered, e) < 0)
		return -1;
	if (registered != 1)
		return 0;
	if (kv_get_int(c->db, ACCOUNT_KV_DEVICE, 0, &device, e) < 0)
		return -1;
	if (account_kv_string(c->db, ACCOUNT_KV_NAME, &c->account_name, &ne) < 0 ||
	    account_kv_string(c->db, ACCOUNT_KV_RELAY, &c->relay_url, &ne) < 0 || device <= 0 ||
	    device > WIRE_DEVICE_MAX) {
		free(c->account_name);
		free(c->relay_url);
		c->account_name = c->relay_url = NULL;
		return err_set(e, ERR_CORRUPT, "the profile's account record is incomplete");
	}
	c->device_id = (uint32_t)device;
	return 0;
}

void
account_remove_files(struct core *c)
{
	static const char *const files[] = {
	    DB_FILE,         DB_FILE "-wal", DB_FILE "-shm", DB_FILE "-journal",
	    KDF_PARAMS_FILE, KDF_KEY_FILE,   DB_LOCK_FILE,
	};
	const struct profile *p = engine_profile(c->eng);
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *path = profile_path(p, files[i]);

		unlink(path);
		free(path);
	}
}

/* SQLCipher's page size in store/db.c: a database whose schema was never
 * committed has at most its first page in the main file. */
#define ACCOUNT_DB_PAGE 4096

/* A database whose creation was killed before its schema was committed:
 * the right key opens it, but it has no schema (db_open: "is empty") and
 * its main file holds one page at most. No key is made before the
 * database is complete, so it holds nothing: remove it, and "register"
 * starts again instead of the profile failing to open for ever. Anything
 * else that fails to open is kept. */
static bool
account_db_unfinished(struct core *c, const struct err *why)
{
	char *path;
	struct stat st;
	bool empty;

	if (why->code != ERR_CORRUPT || strstr(why->msg, " is empty") == NULL)
		return false;
	path = profile_path(engine_profile(c->eng), DB_FILE);
	empty = stat(path, &st) == 0 && st.st_size <= ACCOUNT_DB_PAGE;
	free(path);
	if (empty)
		account_remove_files(c);
	return empty;
}

int
account_open_db(struct core *c, const char *pass, size_t len, struct err *e)
{
	const struct profile *p = engine_profile(c->eng);
	struct db_config cfg = {0};
	struct db *db = NULL;

	cfg.dir = p->dir;
	cfg.passphrase = pass;
	cfg.passphrase_len = len;
	if (db_open(&cfg, &db, e) < 0)
		return -1;
	c->db = db;
	if (sigstore_create(db, c->sig, &c->store, e) < 0 || account_load_identity(c, e) < 0) {
		account_close_db(c);
		return -1;
	}
	return 0;
}

void
account_close_db(struct core *c)
{
	if (c->store != NULL)
		signal_protocol_store_context_destroy(c->store);
	c->store = NULL;
	db_close(c->db);
	c->db = NULL;
}

int
account_connect(struct core *c, struct err *e)
{
	struct transport_config cfg = {0};
	unsigned char *secret = NULL, *pin = NULL;
	size_t len = 0, pin_len = 0;
	struct err ne = {0};
	int r;

	if (c->tp != NULL || c->account_name == NULL)
		return 0;
	if (kv_get_blob(c->db, ACCOUNT_KV_SECRET, &secret, &len, e) < 0)
		return -1;
	if (len != WIRE_SECRET_LEN) {
		wipe_free(secret, len);
		return err_set(e, ERR_CORRUPT, "the stored device secret is damaged");
	}
	cfg.url = c->relay_url;
	cfg.account = c->account_name;
	cfg.device = c->device_id;
	memcpy(cfg.secret, secret, WIRE_SECRET_LEN);
	wipe_free(secret, len);
	if (kv_get_blob(c->db, ACCOUNT_KV_PIN, &pin, &pin_len, &ne) == 0) {
		if (pin_len == sizeof cfg.pin_sha256) {
			cfg.has_pin = true;
			memcpy(cfg.pin_sha256, pin, pin_len);
		}
		free(pin);
	}
	account_tune(c, &cfg);
	c->tp = transport_new(engine_lws_context(c->eng), &cfg, &account_hooks, c, e);
	r = c->tp != NULL ? 0 : -1;
	wipe(&cfg, sizeof cfg);
	return r;
}

/* ---- unlock and status ---- */

/* Everything that follows an open database: the engine serves messaging,
 * msg.c loads its state, the relay connection starts. */
static void
account_opened(struct core *c)
{
	struct err e = {0};

	engine_set_locked(c->eng, false);
	msg_on_unlocked(c);
	if (account_connect(c, &e) < 0)
		account_set_conn(c, CORE_CONN_OFFLINE);
}

static bool
account_db_exists(struct core *c)
{
	char *path = profile_path(engine_profile(c->eng), DB_FILE);
	struct stat st;
	bool exists = stat(path, &st) == 0;

	free(path);
	return exists;
}

/* What refuses an unlock before any work: -1 (e filled), 1 when the
 * database is open already (success), 0 to go on. */
static int
account_unlock_check(struct core *c, const char *pass, size_t len, struct err *e)
{
	if (c->account->reg != NULL)
		return err_set(e, ERR_BUSY, "a registration is under way");
	if (c->account->unlocking != NULL)
		return err_set(e, ERR_BUSY, "an unlock is already under way: wait for its answer");
	if (c->db != NULL)
		return 1;
	if (!account_db_exists(c))
		return err_set(e, ERR_NOTFOUND, "this profile has no account yet: register first");
	if (pass == NULL || len == 0)
		return err_set(e, ERR_BADKEY, "no passphrase given");
	return 0;
}

/* Open the database with pass (the key derived now, or primed by the
 * unlock thread) and start everything that follows. */
static int
account_unlock_open(struct core *c, const char *pass, size_t len, struct err *e)
{
	if (account_open_db(c, pass, len, e) < 0) {
		if (!account_db_unfinished(c, e))
			return -1;
		engine_set_locked(c->eng, false);
		return err_set(e, ERR_NOTFOUND,
		               "this profile has no account yet (its creation was interrupted): "
		               "register first");
	}
	account_opened(c);
	return 0;
}

int
account_unlock(struct core *c, const char *pass, size_t len, struct err *e)
{
	int r = account_unlock_check(c, pass, len, e);

	if (r != 0)
		return r < 0 ? -1 : 0;
	return account_unlock_open(c, pass, len, e);
}

/* ---- unlock off the loop ---- */

/* One unlock in flight. The thread owns nothing but its own fields until
 * it sets finished; then the loop takes over (engine_wake tells it). */
struct account_unlock {
	struct core *c;
	pthread_t thread;
	char *pass;
	size_t len;
	struct kdf_params params;
	unsigned char key[KDF_KEY_LEN];
	struct err e;
	int rc;
	int gate;
	int finished; /* written with release, read with acquire */
	account_done_fn *done;
	void *arg;
};

/* Argon2id and nothing else: no database, no libsignal, no loop state. */
static void *
account_unlock_thread(void *arg)
{
	struct account_unlock *u = arg;
	char b;

	u->rc = kdf_derive_passphrase(u->pass, u->len, &u->params, u->key, &u->e);
	if (u->gate >= 0)
		while (read(u->gate, &b, 1) < 0 && errno == EINTR)
			;
	__atomic_store_n(&u->finished, 1, __ATOMIC_RELEASE);
	engine_wake(u->c->eng);
	return NULL;
}

static void
account_unlock_free(struct account_unlock *u)
{
	wipe_free(u->pass, u->len + 1);
	wipe(u->key, sizeof u->key);
	free(u);
}

/* Join the thread and open the database with the key it derived. */
static void
account_unlock_finish(struct core *c)
{
	struct account_unlock *u = c->account->unlocking;
	account_done_fn *done = u->done;
	void *arg = u->arg;
	struct err e = {0};
	int rc;

	pthread_join(u->thread, NULL);
	c->account->unlocking = NULL;
	if (u->rc == 0) {
		kdf_prime(u->pass, u->len, &u->params, u->key);
		wipe(u->key, sizeof u->key);
		rc = account_unlock_open(c, u->pass, u->len, &e);
		kdf_prime_clear();
	} else {
		rc = -1;
		e = u->e;
	}
	account_unlock_free(u);
	done(c, rc, rc < 0 ? &e : NULL, arg);
}

static void
account_unlock_wake(void *ctx)
{
	struct core *c = ctx;
	struct account_unlock *u = c->account->unlocking;

	if (u != NULL && __atomic_load_n(&u->finished, __ATOMIC_ACQUIRE))
		account_unlock_finish(c);
}

int
account_unlock_start(struct core *c, const char *pass, size_t len, account_done_fn *done, void *arg,
                     struct err *e)
{
	struct account_unlock *u;
	struct kdf_params params;
	char *path;
	int r = account_unlock_check(c, pass, len, e);

	if (r < 0)
		return -1;
	if (r > 0) {
		done(c, 0, NULL, arg);
		return 0;
	}
	path = profile_path(engine_profile(c->eng), KDF_PARAMS_FILE);
	r = kdf_params_load(path, &params, e);
	free(path);
	if (r < 0) {
		if (e != NULL && e->code == ERR_NOTFOUND)
			e->code = ERR_CORRUPT;
		return -1;
	}
	if (params.mode != KDF_PASSPHRASE)
		return err_set(e, ERR_BADKEY,
		               "this profile is unlocked by its key file, not a passphrase");
	u = xcalloc(1, sizeof *u);
	u->c = c;
	u->pass = xmalloc(len + 1);
	memcpy(u->pass, pass, len);
	u->pass[len] = '\0';
	u->len = len;
	u->params = params;
	u->gate = c->account->unlock_gate;
	u->done = done;
	u->arg = arg;
	r = pthread_create(&u->thread, NULL, account_unlock_thread, u);
	if (r != 0) {
		account_unlock_free(u);
		return err_set(e, ERR_INTERNAL, "cannot start the unlock thread: %s", strerror(r));
	}
	c->account->unlocking = u;
	return 0;
}

bool
account_unlocking(const struct core *c)
{
	return c->account != NULL && c->account->unlocking != NULL;
}

void
account_set_unlock_gate(struct core *c, int fd)
{
	c->account->unlock_gate = fd;
}

static void
account_unlock_replied(struct core *c, int rc, const struct err *e, void *arg)
{
	struct engine_req *req = arg;
	(void)c;

	if (rc < 0)
		engine_req_fail_err(req, e);
	else
		engine_req_reply(req, json_object());
}

static void
account_method_unlock(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	json_t *pass = json_object_get(params, "passphrase");
	struct err e = {0};

	if (!json_is_string(pass) || json_string_length(pass) == 0 ||
	    json_string_length(pass) > ACCOUNT_PASSPHRASE_MAX ||
	    strlen(json_string_value(pass)) != json_string_length(pass)) {
		err_set(&e, ERR_INVALID,
		        "unlock: the passphrase must be 1 to %d bytes, without NUL",
		        ACCOUNT_PASSPHRASE_MAX);
		engine_req_fail_err(req, &e);
		return;
	}
	if (account_unlock_start(c, json_string_value(pass), json_string_length(pass),
	                         account_unlock_replied, req, &e) < 0)
		engine_req_fail_err(req, &e);
}

static void
account_method_status(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	json_t *r = json_object();
	char *name = NULL, *relay = NULL;
	struct err e = {0};
	(void)params;

	json_object_set_new(r, "account",
	                    c->account_name != NULL ? json_string(c->account_name) : json_null());
	json_object_set_new(r, "device",
	                    c->device_id != 0 ? json_integer(c->device_id) : json_null());
	json_object_set_new(r, "relay",
	                    c->relay_url != NULL ? json_string(c->relay_url) : json_null());
	json_object_set_new(r, "connection", json_string(account_conn_name(c->conn)));
	json_object_set_new(r, "locked", json_boolean(engine_is_locked(c->eng)));
	json_object_set_new(r, "unlocking", json_boolean(account_unlocking(c)));
	json_object_set_new(r, "registered", json_boolean(c->account_name != NULL));
	if (account_unfinished(c, &name, &relay, &e) > 0) {
		json_object_set_new(r, "unfinished",
		                    json_pack("{s:s,s:s}", "account", name, "relay", relay));
		free(name);
		free(relay);
	} else {
		json_object_set_new(r, "unfinished", json_null());
	}
	engine_req_reply(req, r);
}

/* ---- life ---- */

int
account_init(struct core *c, struct err *e)
{
	const struct profile *p = engine_profile(c->eng);
	struct kdf_params kp;
	char *path;
	int r;

	c->account = xcalloc(1, sizeof *c->account);
	c->account->c = c;
	c->account->unlock_gate = -1;
	c->conn = CORE_CONN_OFFLINE;
	engine_set_wake(c->eng, account_unlock_wake, c);
	if (engine_method_register(c->eng, "unlock", account_method_unlock, c, e) < 0 ||
	    engine_method_register(c->eng, "register", account_method_register, c, e) < 0 ||
	    engine_method_register(c->eng, "status", account_method_status, c, e) < 0 ||
	    engine_method_register(c->eng, "contacts.add", account_method_contacts_add, c, e) < 0)
		return -1;
	/* No database yet: nothing to unlock, "register" is what comes. */
	if (!account_db_exists(c)) {
		engine_set_locked(c->eng, false);
		return 0;
	}
	path = profile_path(p, KDF_PARAMS_FILE);
	r = kdf_params_load(path, &kp, e);
	free(path);
	if (r < 0)
		return err_prefix(e, "profile %s", p->dir);
	if (kp.mode == KDF_PASSPHRASE) {
		engine_set_locked(c->eng, true);
		return 0;
	}
	/* A key file: unattended use, open now. */
	if (account_open_db(c, NULL, 0, e) < 0) {
		if (!account_db_unfinished(c, e))
			return -1;
		engine_set_locked(c->eng, false);
	}
	return 0;
}

void
account_start(struct core *c)
{
	if (c->db != NULL)
		account_opened(c);
}

void
account_stop(struct core *c)
{
	if (c->account == NULL)
		return;
	account_keys_stop(c);
	account_reg_free(c);
	transport_free(c->tp);
	c->tp = NULL;
}

void
account_free(struct core *c)
{
	if (c->account == NULL)
		return;
	/* An unlock still deriving: wait for it (seconds at most) and answer
	 * its caller, who would otherwise wait for ever. */
	if (c->account->unlocking != NULL) {
		struct account_unlock *u = c->account->unlocking;
		struct err e = {0};

		pthread_join(u->thread, NULL);
		c->account->unlocking = NULL;
		err_set(&e, ERR_NETWORK, "the engine stopped before the unlock finished");
		u->done(c, -1, &e, u->arg);
		account_unlock_free(u);
	}
	engine_set_wake(c->eng, NULL, NULL);
	account_stop(c);
	lws_sul_cancel(&c->account->cleanup_sul);
	account_close_db(c);
	free(c->account);
	c->account = NULL;
}
