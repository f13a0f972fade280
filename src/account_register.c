/* Registering a new account: create the profile database with a fresh
 * identity, signed prekey, one-time prekeys and device secret in one
 * transaction, send "register" on a connection of its own, then upload
 * the prekeys. When the relay refuses (name taken, ...), the new profile's
 * files are removed again so that the user can simply try another name. */
#include "account_int.h"

#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#include "crypto/keygen.h"
#include "store/db.h"
#include "store/idstore.h"
#include "store/kdf.h"
#include "store/kv.h"
#include "store/sigstore.h"
#include "transport_int.h"

struct account_reg {
	account_done_fn *done;
	void *arg;
	struct transport *tp;
	struct keygen_prekey_pub *prekeys;
	size_t n_prekeys;
	char *name, *relay;
	bool has_pin;
	uint8_t pin[32];
	struct err why; /* the failure, for the cleanup */
};

/* What the keys.upload after a registration needs to finish it. */
struct account_reg_upload {
	struct core *c;
	account_done_fn *done;
	void *arg;
};

static void
account_reg_remove_files(struct core *c)
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

static void
account_reg_destroy(struct account_reg *reg)
{
	free(reg->prekeys);
	free(reg->name);
	free(reg->relay);
	free(reg);
}

/* Undo a registration that failed: connection, database, files. */
static void
account_reg_abort(struct core *c, const struct err *why)
{
	struct account_reg *reg = c->account->reg;

	c->account->reg = NULL;
	transport_free(reg->tp);
	account_close_db(c);
	account_reg_remove_files(c);
	account_set_conn(c, CORE_CONN_OFFLINE);
	if (reg->done != NULL)
		reg->done(c, -1, why, reg->arg);
	account_reg_destroy(reg);
}

/* The transport may not be freed from its own hook: finish from the loop. */
static void
account_reg_cleanup_cb(lws_sorted_usec_list_t *sul)
{
	struct account *a = lws_container_of(sul, struct account, cleanup_sul);
	struct err why;

	if (a->reg == NULL)
		return;
	why = a->reg->why;
	account_reg_abort(a->c, &why);
}

void
account_reg_free(struct core *c)
{
	struct err e = {0};

	if (c->account->reg == NULL)
		return;
	lws_sul_cancel(&c->account->cleanup_sul);
	err_set(&e, ERR_NETWORK, "the engine stopped during the registration");
	account_reg_abort(c, &e);
}

static void
account_reg_uploaded(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_reg_upload *up = arg;
	struct core *c = up->c;
	(void)resp;
	(void)resp_err;

	c->account->refilling = false;
	/* Registered either way: a failed upload is redone by the prekey
	 * check after the next authentication. */
	if (up->done != NULL)
		up->done(c, 0, NULL, up->arg);
	free(up);
	if (c->tp != NULL && transport_state(c->tp) == TRANSPORT_CONNECTED) {
		account_keys_on_connected(c);
		msg_on_connected(c);
	}
}

/* The relay said 200 to "register": this is now the account's connection. */
static void
account_reg_accepted(struct core *c)
{
	struct account_reg *reg = c->account->reg;
	struct account_reg_upload *up;
	struct wire_frame f;
	struct err e = {0};
	size_t i;

	if (kv_set_int(c->db, ACCOUNT_KV_REGISTERED, 1, &e) < 0) {
		/* Without the marker the profile would not know itself after a
		 * restart; the name is taken on the relay all the same. */
		reg->why = e;
		lws_sul_schedule(engine_lws_context(c->eng), 0, &c->account->cleanup_sul,
		                 account_reg_cleanup_cb, 1);
		return;
	}
	c->account->reg = NULL;
	c->account_name = reg->name;
	c->relay_url = reg->relay;
	c->device_id = 1;
	reg->name = reg->relay = NULL;
	c->tp = reg->tp;
	account_set_conn(c, CORE_CONN_CONNECTED);
	msg_on_unlocked(c);

	up = xcalloc(1, sizeof *up);
	up->c = c;
	up->done = reg->done;
	up->arg = reg->arg;
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_KEYS_UPLOAD;
	f.u.req.u.keys_upload.prekeys = xcalloc(reg->n_prekeys, sizeof(struct wire_prekey));
	f.u.req.u.keys_upload.n_prekeys = reg->n_prekeys;
	for (i = 0; i < reg->n_prekeys; i++) {
		f.u.req.u.keys_upload.prekeys[i].id = reg->prekeys[i].id;
		memcpy(f.u.req.u.keys_upload.prekeys[i].pub, reg->prekeys[i].pub, WIRE_KEY_LEN);
	}
	/* The keys.low push that follows a registration must not start a
	 * second batch while this one is on its way. */
	c->account->refilling = true;
	if (transport_request(c->tp, &f, account_reg_uploaded, up, &e) < 0)
		account_reg_uploaded(up, NULL, &e);
	wire_frame_free(&f);
	account_reg_destroy(reg);
}

void
account_reg_on_state(struct core *c, enum transport_state st, const struct err *why)
{
	struct account_reg *reg = c->account->reg;

	switch (st) {
	case TRANSPORT_CONNECTING:
		account_set_conn(c, CORE_CONN_CONNECTING);
		break;
	case TRANSPORT_CONNECTED:
		account_reg_accepted(c);
		break;
	default:
		if (why != NULL)
			reg->why = *why;
		else
			err_set(&reg->why, ERR_NETWORK, "the registration failed");
		lws_sul_schedule(engine_lws_context(c->eng), 0, &c->account->cleanup_sul,
		                 account_reg_cleanup_cb, 1);
		break;
	}
}

/* Identity, device secret, signed prekey and one-time prekeys, in one
 * transaction; fills the register frame and reg->prekeys. */
static int
account_reg_make_keys(struct core *c, struct account_reg *reg, struct wire_frame *f, struct err *e)
{
	struct keygen_identity id;
	struct keygen_signed_prekey_pub spk;
	uint8_t secret[WIRE_SECRET_LEN];
	uint32_t next_spk = 1, next_pk = 1;
	int64_t now = db_now_ms(c->db);

	if (db_begin(c->db, e) < 0)
		return -1;
	if (keygen_identity_generate(c->sig, &id, e) < 0)
		goto fail;
	if (idstore_set_local(c->db, id.pub, KEYGEN_PUB_LEN, id.priv, KEYGEN_PRIV_LEN,
	                      id.registration_id, e) < 0) {
		keygen_identity_wipe(&id);
		goto fail;
	}
	f->u.req.u.reg.registration_id = id.registration_id;
	memcpy(f->u.req.u.reg.identity_key, id.pub, WIRE_KEY_LEN);
	keygen_identity_wipe(&id);
	if (RAND_bytes(secret, sizeof secret) != 1) {
		err_set(e, ERR_INTERNAL, "no randomness for the device secret");
		goto fail;
	}
	memcpy(f->u.req.u.reg.secret, secret, WIRE_SECRET_LEN);
	if (kv_set_blob(c->db, ACCOUNT_KV_SECRET, secret, sizeof secret, e) < 0) {
		wipe(secret, sizeof secret);
		goto fail;
	}
	wipe(secret, sizeof secret);
	if (keygen_signed_prekey_generate(c->store, c->sig, &next_spk, (uint64_t)now, &spk, e) < 0)
		goto fail;
	f->u.req.u.reg.signed_prekey.id = spk.id;
	memcpy(f->u.req.u.reg.signed_prekey.pub, spk.pub, WIRE_KEY_LEN);
	memcpy(f->u.req.u.reg.signed_prekey.sig, spk.sig, WIRE_SIG_LEN);
	if (keygen_prekeys_generate(c->store, c->sig, &next_pk, ACCOUNT_PREKEY_BATCH, &reg->prekeys,
	                            e) < 0)
		goto fail;
	reg->n_prekeys = ACCOUNT_PREKEY_BATCH;
	if (kv_set_int(c->db, ACCOUNT_KV_NEXT_SPK, next_spk, e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_NEXT_PREKEY, next_pk, e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_SPK_UPLOADED, spk.id, e) < 0 ||
	    kv_set_blob(c->db, ACCOUNT_KV_NAME, reg->name, strlen(reg->name), e) < 0 ||
	    kv_set_blob(c->db, ACCOUNT_KV_RELAY, reg->relay, strlen(reg->relay), e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_DEVICE, 1, e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_REGISTERED, 0, e) < 0 ||
	    (reg->has_pin && kv_set_blob(c->db, ACCOUNT_KV_PIN, reg->pin, sizeof reg->pin, e) < 0))
		goto fail;
	return db_commit(c->db, e);
fail:
	db_rollback(c->db, NULL);
	return -1;
}

int
account_register(struct core *c, const struct account_register_params *p, account_done_fn *done,
                 void *arg, struct err *e)
{
	const struct profile *prof = engine_profile(c->eng);
	struct transport_config cfg = {0};
	struct db_config dcfg = {0};
	struct transport_url url;
	struct account_reg *reg;
	struct wire_frame f;
	char *path;
	int exists;

	if (c->db != NULL || c->account_name != NULL)
		return err_set(e, ERR_EXISTS, "this profile already has an account (%s)",
		               c->account_name != NULL ? c->account_name : "locked");
	if (c->account->reg != NULL)
		return err_set(e, ERR_BUSY, "a registration is already under way");
	if (p->name == NULL || !wire_name_valid(p->name))
		return err_set(
		    e, ERR_INVALID,
		    "bad account name: 1 to 32 of a-z 0-9 . _ -, starting with a letter");
	if (transport_url_parse(p->relay, &url, e) < 0)
		return -1;
	transport_url_clear(&url);
	if (!p->keyfile && (p->passphrase == NULL || p->passphrase_len == 0))
		return err_set(e, ERR_INVALID, "register needs a passphrase (or keyfile)");
	path = profile_path(prof, DB_FILE);
	exists = access(path, F_OK) == 0;
	free(path);
	if (exists)
		return err_set(e, ERR_EXISTS, "this profile already has a database");

	dcfg.dir = prof->dir;
	dcfg.passphrase = p->keyfile ? NULL : p->passphrase;
	dcfg.passphrase_len = p->keyfile ? 0 : p->passphrase_len;
	dcfg.kdf_opslimit = c->account->kdf_ops;
	dcfg.kdf_memlimit = c->account->kdf_mem;
	if (db_create(&dcfg, &c->db, e) < 0)
		return -1;
	reg = xcalloc(1, sizeof *reg);
	reg->done = done;
	reg->arg = arg;
	reg->name = xstrdup(p->name);
	reg->relay = xstrdup(p->relay);
	reg->has_pin = p->has_pin;
	memcpy(reg->pin, p->pin, sizeof reg->pin);
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_REGISTER;
	snprintf(f.u.req.u.reg.account, sizeof f.u.req.u.reg.account, "%s", p->name);
	f.u.req.u.reg.token = p->token != NULL ? xstrdup(p->token) : NULL;
	if (sigstore_create(c->db, c->sig, &c->store, e) < 0 ||
	    account_reg_make_keys(c, reg, &f, e) < 0)
		goto fail;
	cfg.url = p->relay;
	cfg.register_req = &f;
	cfg.has_pin = p->has_pin;
	memcpy(cfg.pin_sha256, p->pin, sizeof cfg.pin_sha256);
	account_tune(c, &cfg);
	reg->tp = transport_new(engine_lws_context(c->eng), &cfg, &account_hooks, c, e);
	if (reg->tp == NULL)
		goto fail;
	wire_frame_free(&f);
	c->account->reg = reg;
	return 0;
fail:
	wire_frame_free(&f);
	account_close_db(c);
	account_reg_remove_files(c);
	account_reg_destroy(reg);
	return -1;
}

/* ---- the JSON-RPC method ---- */

int
account_parse_pin(const char *s, uint8_t out[32], struct err *e)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == ':' && hi < 0)
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return err_set(e, ERR_INVALID, "pin: not a hex digit");
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == 32)
			return err_set(e, ERR_INVALID, "pin: longer than a SHA-256 digest");
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (n != 32 || hi >= 0)
		return err_set(e, ERR_INVALID, "pin: a SHA-256 fingerprint has 64 hex digits");
	return 0;
}

static void
account_reg_method_done(struct core *c, int rc, const struct err *e, void *arg)
{
	struct engine_req *req = arg;

	if (rc < 0) {
		engine_req_fail_err(req, e);
		return;
	}
	engine_req_reply(req, json_pack("{s:s,s:I,s:s}", "account", c->account_name, "device",
	                                (json_int_t)c->device_id, "relay", c->relay_url));
}

void
account_method_register(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	struct account_register_params p = {0};
	json_t *pass = json_object_get(params, "passphrase");
	struct err e = {0};

	p.name = json_string_value(json_object_get(params, "name"));
	p.relay = json_string_value(json_object_get(params, "relay"));
	p.keyfile = json_is_true(json_object_get(params, "keyfile"));
	p.token = json_string_value(json_object_get(params, "token"));
	if (json_string_value(json_object_get(params, "pin")) != NULL) {
		if (account_parse_pin(json_string_value(json_object_get(params, "pin")), p.pin,
		                      &e) < 0) {
			engine_req_fail_err(req, &e);
			return;
		}
		p.has_pin = true;
	}
	if (json_is_string(pass)) {
		p.passphrase = json_string_value(pass);
		p.passphrase_len = json_string_length(pass);
		if (strlen(p.passphrase) != p.passphrase_len) {
			err_set(&e, ERR_INVALID, "register: the passphrase contains NUL");
			engine_req_fail_err(req, &e);
			return;
		}
	}
	if (account_register(c, &p, account_reg_method_done, req, &e) < 0)
		engine_req_fail_err(req, &e);
}
