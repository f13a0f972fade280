/* Registering a new account: create the profile database with a fresh
 * identity, signed prekey, one-time prekeys and device secret in one
 * transaction, send "register" on a connection of its own, then upload
 * the prekeys. A registration cut short (no answer, or an answer the
 * engine did not live to record) is finished by running it again: the
 * same keys go to the relay, and "name taken" is settled by authenticating
 * with the stored device secret. Only an answer proving that the relay
 * never took these keys removes the new profile's files again. */
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

/* What the loop does with a registration that did not succeed. */
enum account_reg_next {
	ACCOUNT_REG_KEEP,   /* fail, keep the profile: register again finishes it */
	ACCOUNT_REG_REMOVE, /* fail; the relay never took these keys: drop them */
	ACCOUNT_REG_PROBE,  /* "name taken" for keys sent before: is it ours? */
};

struct account_reg {
	account_done_fn *done;
	void *arg;
	struct transport *tp;
	/* A new profile's one-time prekeys, uploaded after the 200. */
	struct keygen_prekey_pub *prekeys;
	size_t n_prekeys;
	char *name, *relay;
	bool has_pin;
	uint8_t pin[32];
	bool resumed; /* these keys may have reached the relay before */
	bool probing; /* tp authenticates with the stored secret */
	bool ending;  /* the cleanup is scheduled */
	enum account_reg_next next;
	struct err why; /* the failure, for the cleanup */
};

/* What finishing a registration needs once the relay has the account. */
struct account_reg_upload {
	struct core *c;
	account_done_fn *done;
	void *arg;
};

static void
account_reg_destroy(struct account_reg *reg)
{
	free(reg->prekeys);
	free(reg->name);
	free(reg->relay);
	free(reg);
}

/* End a registration that failed: the connection always, the database
 * and its files only when remove says the relay never took the keys.
 * Otherwise the database stays open, so "register" again in this engine
 * (or a later one) sends the same keys. */
static void
account_reg_abort(struct core *c, const struct err *why, bool remove)
{
	struct account_reg *reg = c->account->reg;

	c->account->reg = NULL;
	transport_free(reg->tp);
	if (remove) {
		account_close_db(c);
		account_remove_files(c);
	}
	account_set_conn(c, CORE_CONN_OFFLINE);
	if (reg->done != NULL)
		reg->done(c, -1, why, reg->arg);
	account_reg_destroy(reg);
}

/* "name taken" for keys that may have been sent before: authenticate as
 * device 1 with the stored secret. Success means the account is ours. */
static int
account_reg_probe(struct core *c, struct err *e)
{
	struct account_reg *reg = c->account->reg;
	struct transport_config cfg = {0};
	unsigned char *secret = NULL;
	size_t len = 0;

	transport_free(reg->tp);
	reg->tp = NULL;
	if (kv_get_blob(c->db, ACCOUNT_KV_SECRET, &secret, &len, e) < 0)
		return -1;
	if (len != WIRE_SECRET_LEN) {
		wipe_free(secret, len);
		return err_set(e, ERR_CORRUPT, "the stored device secret is damaged");
	}
	cfg.url = reg->relay;
	cfg.account = reg->name;
	cfg.device = 1;
	memcpy(cfg.secret, secret, WIRE_SECRET_LEN);
	wipe_free(secret, len);
	cfg.has_pin = reg->has_pin;
	memcpy(cfg.pin_sha256, reg->pin, sizeof cfg.pin_sha256);
	account_tune(c, &cfg);
	reg->probing = true;
	reg->ending = false;
	reg->tp = transport_new(engine_lws_context(c->eng), &cfg, &account_hooks, c, e);
	wipe(&cfg, sizeof cfg);
	return reg->tp != NULL ? 0 : -1;
}

/* Transports may not be freed from their own hooks: go on from the loop. */
static void
account_reg_cleanup_cb(lws_sorted_usec_list_t *sul)
{
	struct account *a = lws_container_of(sul, struct account, cleanup_sul);
	struct err why;

	if (a->reg == NULL)
		return;
	why = a->reg->why;
	switch (a->reg->next) {
	case ACCOUNT_REG_PROBE:
		if (account_reg_probe(a->c, &why) < 0)
			account_reg_abort(a->c, &why, false);
		break;
	case ACCOUNT_REG_REMOVE:
		account_reg_abort(a->c, &why, true);
		break;
	case ACCOUNT_REG_KEEP:
		account_reg_abort(a->c, &why, false);
		break;
	}
}

static void
account_reg_schedule(struct core *c, enum account_reg_next next)
{
	struct account_reg *reg = c->account->reg;

	reg->next = next;
	reg->ending = true;
	lws_sul_schedule(engine_lws_context(c->eng), 0, &c->account->cleanup_sul,
	                 account_reg_cleanup_cb, 1);
}

/* A failure after which the profile keeps its keys: say how to go on. */
static void
account_reg_keep_why(struct account_reg *reg, enum err_code code, const char *msg)
{
	err_set(&reg->why, code,
	        "%s; the profile keeps its keys: run the same register command again to "
	        "finish the registration",
	        msg);
}

void
account_reg_free(struct core *c)
{
	struct err e = {0};

	if (c->account->reg == NULL)
		return;
	lws_sul_cancel(&c->account->cleanup_sul);
	/* The relay may have taken the keys already: keep them. */
	err_set(&e, ERR_NETWORK,
	        "the engine stopped during the registration; run the same register command "
	        "again to finish it");
	account_reg_abort(c, &e, false);
}

/* The account is ours on the relay now: the rest is not worth failing
 * the registration for. */
static void
account_reg_finish(struct account_reg_upload *up)
{
	struct core *c = up->c;

	if (up->done != NULL)
		up->done(c, 0, NULL, up->arg);
	free(up);
	if (c->tp != NULL && transport_state(c->tp) == TRANSPORT_CONNECTED) {
		account_keys_on_connected(c);
		msg_on_connected(c);
	}
}

static void
account_reg_uploaded(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_reg_upload *up = arg;
	(void)resp;
	(void)resp_err;

	up->c->account->refilling = false;
	/* A failed upload is redone by the prekey check after the next
	 * authentication. */
	account_reg_finish(up);
}

static void
account_reg_checked(struct core *c, int rc, const struct err *e, void *arg)
{
	(void)c;
	(void)rc;
	(void)e;
	account_reg_finish(arg);
}

/* The relay said 200 to "register", or the stored secret authenticated:
 * this is now the account's connection. */
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
		 * restart; the relay has the account, so a second run of
		 * register finds it with the same keys. */
		account_reg_keep_why(reg, e.code, e.msg);
		account_reg_schedule(c, ACCOUNT_REG_KEEP);
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
	if (reg->n_prekeys == 0) {
		/* Finishing an earlier attempt: its prekeys may or may not have
		 * gone up. Count them and refill below the threshold. */
		if (account_check_prekeys(c, account_reg_checked, up, &e) < 0)
			account_reg_finish(up);
		account_reg_destroy(reg);
		return;
	}
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

/* The authentication that settles "name taken" ended without success. */
static void
account_reg_probe_failed(struct core *c, enum transport_state st, const struct err *why)
{
	struct account_reg *reg = c->account->reg;

	if (st == TRANSPORT_AUTH_FAILED) {
		/* Someone else's account: the relay never took our keys. */
		err_set(&reg->why, ERR_EXISTS, "the name %s is taken on this relay", reg->name);
		account_reg_schedule(c, ACCOUNT_REG_REMOVE);
		return;
	}
	account_reg_keep_why(reg, why != NULL ? why->code : ERR_NETWORK,
	                     why != NULL ? why->msg : "the relay could not be reached");
	account_reg_schedule(c, ACCOUNT_REG_KEEP);
}

/* The register request ended without a 200. */
static void
account_reg_refused(struct core *c, const struct err *why)
{
	struct account_reg *reg = c->account->reg;
	enum err_code code = why != NULL ? why->code : ERR_NETWORK;

	if (code == ERR_EXISTS) {
		reg->why = *why;
		/* Keys sent before may be what took the name. */
		account_reg_schedule(c, reg->resumed ? ACCOUNT_REG_PROBE : ACCOUNT_REG_REMOVE);
		return;
	}
	if (code == ERR_AUTH || code == ERR_INVALID) {
		/* Registration closed, or a bad request: nothing was stored
		 * this time. Keys that went out before are still kept (the
		 * relay checks the token before it looks at the name). */
		reg->why = *why;
		account_reg_schedule(c, reg->resumed ? ACCOUNT_REG_KEEP : ACCOUNT_REG_REMOVE);
		return;
	}
	/* No answer: the relay may or may not have the account. */
	account_reg_keep_why(reg, code, why != NULL ? why->msg : "the registration failed");
	account_reg_schedule(c, ACCOUNT_REG_KEEP);
}

void
account_reg_on_state(struct core *c, enum transport_state st, const struct err *why)
{
	struct account_reg *reg = c->account->reg;

	if (reg->ending)
		return;
	switch (st) {
	case TRANSPORT_CONNECTING:
		account_set_conn(c, CORE_CONN_CONNECTING);
		break;
	case TRANSPORT_CONNECTED:
		account_reg_accepted(c);
		break;
	default:
		if (reg->probing)
			account_reg_probe_failed(c, st, why);
		else
			account_reg_refused(c, why);
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
	reg->n_prekeys = 0;
	free(reg->prekeys);
	reg->prekeys = NULL;
	return -1;
}

/* The keys an earlier attempt made (and may have sent), into the register
 * frame again. The relay URL and pin are this attempt's: only the keys
 * must stay the same. */
static int
account_reg_load_keys(struct core *c, struct account_reg *reg, struct wire_frame *f, struct err *e)
{
	struct keygen_bundle b;
	unsigned char *secret = NULL;
	size_t len = 0;
	int64_t spk = 0;

	if (kv_get_int(c->db, ACCOUNT_KV_SPK_UPLOADED, 0, &spk, e) < 0)
		return -1;
	if (spk <= 0 || spk > KEYGEN_PREKEY_ID_MAX)
		return err_set(e, ERR_CORRUPT, "the unfinished registration has no signed prekey");
	if (keygen_bundle_from_store(c->store, 1, 0, 0, (uint32_t)spk, &b, e) < 0)
		return -1;
	if (kv_get_blob(c->db, ACCOUNT_KV_SECRET, &secret, &len, e) < 0)
		return -1;
	if (len != WIRE_SECRET_LEN) {
		wipe_free(secret, len);
		return err_set(e, ERR_CORRUPT, "the stored device secret is damaged");
	}
	memcpy(f->u.req.u.reg.secret, secret, WIRE_SECRET_LEN);
	wipe_free(secret, len);
	f->u.req.u.reg.registration_id = b.registration_id;
	memcpy(f->u.req.u.reg.identity_key, b.identity_pub, WIRE_KEY_LEN);
	f->u.req.u.reg.signed_prekey.id = b.signed_prekey_id;
	memcpy(f->u.req.u.reg.signed_prekey.pub, b.signed_prekey_pub, WIRE_KEY_LEN);
	memcpy(f->u.req.u.reg.signed_prekey.sig, b.signed_prekey_sig, WIRE_SIG_LEN);
	if (db_begin(c->db, e) < 0)
		return -1;
	if (kv_set_blob(c->db, ACCOUNT_KV_RELAY, reg->relay, strlen(reg->relay), e) < 0 ||
	    (reg->has_pin ? kv_set_blob(c->db, ACCOUNT_KV_PIN, reg->pin, sizeof reg->pin, e)
	                  : kv_delete(c->db, ACCOUNT_KV_PIN, e)) < 0) {
		db_rollback(c->db, NULL);
		return -1;
	}
	reg->resumed = true;
	return db_commit(c->db, e);
}

/* The name an unfinished registration in the open database was for:
 * 1 with *out (the caller's), 0 when the database has no keys yet. */
static int
account_reg_pending_name(struct core *c, char **out, struct err *e)
{
	unsigned char *v = NULL;
	size_t len = 0;
	struct err ne = {0};

	*out = NULL;
	if (kv_get_blob(c->db, ACCOUNT_KV_NAME, &v, &len, &ne) < 0) {
		if (ne.code == ERR_NOTFOUND)
			return 0;
		*e = ne;
		return -1;
	}
	*out = xstrndup((const char *)v, len);
	free(v);
	return 1;
}

int
account_unfinished(struct core *c, char **name, char **relay, struct err *e)
{
	unsigned char *v = NULL;
	size_t len = 0;
	int r;

	*relay = NULL;
	if (c->db == NULL || c->account_name != NULL) {
		*name = NULL;
		return 0;
	}
	r = account_reg_pending_name(c, name, e);
	if (r <= 0)
		return r;
	if (kv_get_blob(c->db, ACCOUNT_KV_RELAY, &v, &len, e) < 0) {
		free(*name);
		*name = NULL;
		return -1;
	}
	*relay = xstrndup((const char *)v, len);
	free(v);
	return 1;
}

/* Keys for the register frame: the earlier attempt's when the open
 * database has them (for the same name only), else new ones. */
static int
account_reg_keys(struct core *c, struct account_reg *reg, struct wire_frame *f, struct err *e)
{
	char *pending = NULL;
	int r = account_reg_pending_name(c, &pending, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return account_reg_make_keys(c, reg, f, e);
	if (strcmp(pending, reg->name) != 0) {
		err_set(e, ERR_EXISTS,
		        "this profile holds an unfinished registration of %s: run register "
		        "again with that name to finish it (or use another profile for %s)",
		        pending, reg->name);
		free(pending);
		return -1;
	}
	free(pending);
	return account_reg_load_keys(c, reg, f, e);
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
	bool created = false;
	char *path;
	int exists;

	if (c->account->reg != NULL)
		return err_set(e, ERR_BUSY, "a registration is already under way");
	if (c->account_name != NULL)
		return err_set(e, ERR_EXISTS,
		               "this profile is already registered as %s on %s; a profile holds "
		               "one account (use --profile or --home for another)",
		               c->account_name, c->relay_url != NULL ? c->relay_url : "its relay");
	if (p->name == NULL || !wire_name_valid(p->name))
		return err_set(
		    e, ERR_INVALID,
		    "bad account name: 1 to 32 of a-z 0-9 . _ -, starting with a letter");
	if (transport_url_parse(p->relay, &url, e) < 0)
		return -1;
	transport_url_clear(&url);
	if (c->db == NULL) {
		path = profile_path(prof, DB_FILE);
		exists = access(path, F_OK) == 0;
		free(path);
		if (exists)
			return err_set(
			    e, ERR_AUTH,
			    "this profile already has a database: unlock it first (an "
			    "unfinished registration is then finished with the same keys)");
		if (!p->keyfile && (p->passphrase == NULL || p->passphrase_len == 0))
			return err_set(e, ERR_INVALID, "register needs a passphrase (or keyfile)");
		dcfg.dir = prof->dir;
		dcfg.passphrase = p->keyfile ? NULL : p->passphrase;
		dcfg.passphrase_len = p->keyfile ? 0 : p->passphrase_len;
		dcfg.kdf_opslimit = c->account->kdf_ops;
		dcfg.kdf_memlimit = c->account->kdf_mem;
		if (db_create(&dcfg, &c->db, e) < 0)
			return -1;
		created = true;
	}
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
	if ((c->store == NULL && sigstore_create(c->db, c->sig, &c->store, e) < 0) ||
	    account_reg_keys(c, reg, &f, e) < 0)
		goto fail;
	cfg.url = p->relay;
	cfg.register_req = &f;
	cfg.has_pin = p->has_pin;
	memcpy(cfg.pin_sha256, p->pin, sizeof cfg.pin_sha256);
	account_tune(c, &cfg);
	reg->tp = transport_new(engine_lws_context(c->eng), &cfg, &account_hooks, c, e);
	if (reg->tp == NULL)
		goto fail;
	wipe(&f.u.req.u.reg.secret, sizeof f.u.req.u.reg.secret);
	wire_frame_free(&f);
	c->account->reg = reg;
	return 0;
fail:
	wipe(&f.u.req.u.reg.secret, sizeof f.u.req.u.reg.secret);
	wire_frame_free(&f);
	/* Nothing was sent: a database made just now goes again. */
	if (created) {
		account_close_db(c);
		account_remove_files(c);
	}
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
