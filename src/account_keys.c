/* Key upkeep on the relay: keep enough one-time prekeys there (count after
 * every authentication, refill on keys.low), rotate the signed prekey on
 * its schedule, and fetch peers' bundles to build the sessions msg.c
 * needs (also how "contacts.add" learns that a name exists). Keys are
 * generated and stored locally before they are uploaded, so an upload
 * lost on the way only costs ids, never a key in use. */
#include "account_int.h"

#include <string.h>

#include "crypto/e2e.h"
#include "msg.h"
#include "store/contacts.h"
#include "store/db.h"
#include "store/idstore.h"
#include "store/kv.h"
#include "store/sigstore.h"

/* One request's continuation. */
struct account_job {
	struct core *c;
	account_done_fn *done;
	void *arg;
	char name[WIRE_NAME_MAX + 1];
	uint32_t id; /* signed prekey being uploaded */
	/* Bundle fetches: the device asked for (0: all), the callers that
	 * joined this fetch, and the list of fetches in flight. */
	uint32_t device;
	struct account_waiter *waiters;
	struct account_job *next;
};

struct account_waiter {
	account_done_fn *done;
	void *arg;
	struct account_waiter *next;
};

/* Key upkeep commits on its own: first close a receive batch the
 * messaging half holds open, so a failed batch can never take uploaded
 * prekeys down with it. */
static int
account_keys_begin(struct core *c, struct err *e)
{
	msg_flush(c);
	return db_begin(c->db, e);
}

static struct account_job *
account_job_new(struct core *c, account_done_fn *done, void *arg)
{
	struct account_job *j = xcalloc(1, sizeof *j);

	j->c = c;
	j->done = done;
	j->arg = arg;
	return j;
}

static void
account_job_finish(struct account_job *j, int rc, const struct err *e)
{
	if (j->done != NULL)
		j->done(j->c, rc, e, j->arg);
	free(j);
}

static bool
account_online(struct core *c)
{
	return c->tp != NULL && transport_state(c->tp) == TRANSPORT_CONNECTED;
}

static int
account_offline_err(struct err *e)
{
	return err_set(e, ERR_NETWORK, "not connected to the relay");
}

/* The outcome of a reply as rc/err. */
static int
account_reply_rc(const struct wire_frame *resp, const struct err *resp_err, struct err *e)
{
	if (resp == NULL) {
		*e = *resp_err;
		return -1;
	}
	return transport_resp_err(resp, e);
}

/* ---- one-time prekeys ---- */

static void
account_prekeys_uploaded(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_job *j = arg;
	struct err e = {0};
	int rc = account_reply_rc(resp, resp_err, &e);

	j->c->account->refilling = false;
	account_job_finish(j, rc, rc < 0 ? &e : NULL);
}

int
account_upload_prekeys(struct core *c, size_t n, account_done_fn *done, void *arg, struct err *e)
{
	struct keygen_prekey_pub *pubs = NULL;
	struct account_job *j;
	struct wire_frame f;
	int64_t next = 1;
	uint32_t next_id;
	size_t i;
	int r;

	if (!account_online(c))
		return account_offline_err(e);
	if (c->account->refilling) {
		/* The batch in flight is the answer to this request too. */
		if (done != NULL)
			done(c, 0, NULL, arg);
		return 0;
	}
	if (account_keys_begin(c, e) < 0)
		return -1;
	if (kv_get_int(c->db, ACCOUNT_KV_NEXT_PREKEY, 1, &next, e) < 0)
		goto fail;
	next_id = next > 0 && next <= KEYGEN_PREKEY_ID_MAX ? (uint32_t)next : 1;
	if (keygen_prekeys_generate(c->store, c->sig, &next_id, n, &pubs, e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_NEXT_PREKEY, next_id, e) < 0 || db_commit(c->db, e) < 0)
		goto fail;
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_KEYS_UPLOAD;
	f.u.req.u.keys_upload.prekeys = xcalloc(n, sizeof(struct wire_prekey));
	f.u.req.u.keys_upload.n_prekeys = n;
	for (i = 0; i < n; i++) {
		f.u.req.u.keys_upload.prekeys[i].id = pubs[i].id;
		memcpy(f.u.req.u.keys_upload.prekeys[i].pub, pubs[i].pub, WIRE_KEY_LEN);
	}
	free(pubs);
	j = account_job_new(c, done, arg);
	r = transport_request(c->tp, &f, account_prekeys_uploaded, j, e);
	wire_frame_free(&f);
	if (r < 0) {
		free(j);
		return -1;
	}
	c->account->refilling = true;
	return 0;
fail:
	if (db_depth(c->db) > 0)
		db_rollback(c->db, NULL);
	free(pubs);
	return -1;
}

static void
account_prekeys_counted(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_job *j = arg;
	struct core *c = j->c;
	struct err e = {0};

	if (account_reply_rc(resp, resp_err, &e) < 0) {
		account_job_finish(j, -1, &e);
		return;
	}
	if (resp->u.resp.count >= ACCOUNT_PREKEY_LOW) {
		account_job_finish(j, 0, NULL);
		return;
	}
	if (account_upload_prekeys(c, ACCOUNT_PREKEY_BATCH, j->done, j->arg, &e) < 0) {
		account_job_finish(j, -1, &e);
		return;
	}
	free(j); /* the upload finishes it */
}

int
account_check_prekeys(struct core *c, account_done_fn *done, void *arg, struct err *e)
{
	struct account_job *j;
	struct wire_frame f;

	if (!account_online(c))
		return account_offline_err(e);
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_KEYS_COUNT;
	j = account_job_new(c, done, arg);
	if (transport_request(c->tp, &f, account_prekeys_counted, j, e) < 0) {
		free(j);
		return -1;
	}
	return 0;
}

void
account_keys_on_low(struct core *c)
{
	struct err e = {0};

	if (c->db != NULL && c->account->reg == NULL)
		account_upload_prekeys(c, ACCOUNT_PREKEY_BATCH, NULL, NULL, &e);
}

/* ---- signed prekey ---- */

/* The schedule over what the store holds: whether to rotate, what to
 * drop, and the newest key's id (0 if none). */
static int
account_spk_plan(struct core *c, uint64_t now_ms, int *rotate, uint32_t **del, size_t *n_del,
                 uint32_t *newest, struct err *e)
{
	struct sigstore_signed_prekey *list = NULL;
	struct keygen_spk_info *info;
	size_t n = 0, i;
	uint64_t newest_at = 0;

	if (sigstore_signed_prekeys_list(c->db, &list, &n, e) < 0)
		return -1;
	info = xcalloc(n + 1, sizeof *info);
	*del = xcalloc(n + 1, sizeof **del);
	*newest = 0;
	for (i = 0; i < n; i++) {
		info[i].id = list[i].id;
		info[i].created_ms = list[i].created_at > 0 ? (uint64_t)list[i].created_at : 0;
		if (*newest == 0 || info[i].created_ms >= newest_at) {
			newest_at = info[i].created_ms;
			*newest = info[i].id;
		}
	}
	*rotate = keygen_signed_prekey_plan(info, n, now_ms, KEYGEN_ROTATE_AFTER_MS,
	                                    KEYGEN_GRACE_MS, *del, n_del);
	free(info);
	free(list);
	return 0;
}

static int
account_spk_rotate(struct core *c, uint64_t now_ms, struct err *e)
{
	struct keygen_signed_prekey_pub pub;
	int64_t next = 1;
	uint32_t next_id;

	if (account_keys_begin(c, e) < 0)
		return -1;
	if (kv_get_int(c->db, ACCOUNT_KV_NEXT_SPK, 1, &next, e) < 0)
		goto fail;
	next_id = next > 0 && next <= KEYGEN_PREKEY_ID_MAX ? (uint32_t)next : 1;
	if (keygen_signed_prekey_generate(c->store, c->sig, &next_id, now_ms, &pub, e) < 0 ||
	    kv_set_int(c->db, ACCOUNT_KV_NEXT_SPK, next_id, e) < 0)
		goto fail;
	return db_commit(c->db, e);
fail:
	db_rollback(c->db, NULL);
	return -1;
}

static void
account_spk_uploaded(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_job *j = arg;
	struct core *c = j->c;
	struct err e = {0};
	int rc = account_reply_rc(resp, resp_err, &e);

	c->account->spk_busy = false;
	if (rc == 0 && c->db != NULL)
		rc = kv_set_int(c->db, ACCOUNT_KV_SPK_UPLOADED, j->id, &e);
	account_job_finish(j, rc, rc < 0 ? &e : NULL);
}

int
account_check_signed_prekey(struct core *c, uint64_t now_ms, account_done_fn *done, void *arg,
                            struct err *e)
{
	struct keygen_bundle b;
	struct account_job *j;
	struct wire_frame f;
	uint32_t *del = NULL, newest = 0;
	size_t n_del = 0, i;
	int64_t uploaded = 0;
	int rotate = 0;

	if (!account_online(c))
		return account_offline_err(e);
	if (c->account->spk_busy) {
		if (done != NULL)
			done(c, 0, NULL, arg);
		return 0;
	}
	if (account_spk_plan(c, now_ms, &rotate, &del, &n_del, &newest, e) < 0)
		return -1;
	if (rotate) {
		free(del);
		/* The old active key only counts as old once the new one is
		 * stored: plan again for what to drop. */
		if (account_spk_rotate(c, now_ms, e) < 0 ||
		    account_spk_plan(c, now_ms, &rotate, &del, &n_del, &newest, e) < 0)
			return -1;
	}
	for (i = 0; i < n_del; i++)
		if (del[i] != newest && keygen_signed_prekey_remove(c->store, del[i], e) < 0) {
			free(del);
			return -1;
		}
	free(del);
	if (kv_get_int(c->db, ACCOUNT_KV_SPK_UPLOADED, 0, &uploaded, e) < 0)
		return -1;
	if (newest == 0 || (int64_t)newest == uploaded) {
		if (done != NULL)
			done(c, 0, NULL, arg);
		return 0;
	}
	if (keygen_bundle_from_store(c->store, (int32_t)c->device_id, 0, 0, newest, &b, e) < 0)
		return -1;
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_KEYS_UPLOAD;
	f.u.req.u.keys_upload.has_signed_prekey = 1;
	f.u.req.u.keys_upload.signed_prekey.id = b.signed_prekey_id;
	memcpy(f.u.req.u.keys_upload.signed_prekey.pub, b.signed_prekey_pub, WIRE_KEY_LEN);
	memcpy(f.u.req.u.keys_upload.signed_prekey.sig, b.signed_prekey_sig, WIRE_SIG_LEN);
	j = account_job_new(c, done, arg);
	j->id = newest;
	if (transport_request(c->tp, &f, account_spk_uploaded, j, e) < 0) {
		free(j);
		return -1;
	}
	c->account->spk_busy = true;
	return 0;
}

static void
account_spk_timer(lws_sorted_usec_list_t *sul)
{
	struct account *a = lws_container_of(sul, struct account, spk_sul);
	struct core *c = a->c;
	struct err e = {0};

	if (c->db != NULL && account_online(c))
		account_check_signed_prekey(c, (uint64_t)db_now_ms(c->db), NULL, NULL, &e);
	lws_sul_schedule(engine_lws_context(c->eng), 0, &a->spk_sul, account_spk_timer,
	                 (lws_usec_t)ACCOUNT_SPK_CHECK_MS * 1000);
}

void
account_keys_on_connected(struct core *c)
{
	struct err e = {0};

	if (c->db == NULL)
		return;
	account_check_prekeys(c, NULL, NULL, &e);
	account_check_signed_prekey(c, (uint64_t)db_now_ms(c->db), NULL, NULL, &e);
	lws_sul_schedule(engine_lws_context(c->eng), 0, &c->account->spk_sul, account_spk_timer,
	                 (lws_usec_t)ACCOUNT_SPK_CHECK_MS * 1000);
}

void
account_keys_stop(struct core *c)
{
	lws_sul_cancel(&c->account->spk_sul);
}

/* ---- peers' bundles ---- */

static void
account_identity_changed(struct core *c, const char *name, bool blocked)
{
	engine_emit(c->eng, "identity.changed",
	            json_pack("{s:s,s:b}", "name", name, "blocked", blocked));
}

/* Build a session from one bundle unless we have one; 0 or -1. */
static int
account_build_one(struct core *c, const char *name, const struct wire_frame *resp,
                  const struct wire_bundle *wb, struct err *e)
{
	struct keygen_bundle kb;
	enum idstore_trust trust = IDSTORE_UNKNOWN;
	int has;

	has = e2e_has_session(c->store, name, (int32_t)wb->device, e);
	if (has < 0)
		return -1;
	if (has == 1)
		return 0;
	memset(&kb, 0, sizeof kb);
	kb.registration_id = wb->registration_id;
	kb.device_id = (int32_t)wb->device;
	kb.has_prekey = wb->has_prekey;
	kb.prekey_id = wb->prekey.id;
	memcpy(kb.prekey_pub, wb->prekey.pub, KEYGEN_PUB_LEN);
	kb.signed_prekey_id = wb->signed_prekey.id;
	memcpy(kb.signed_prekey_pub, wb->signed_prekey.pub, KEYGEN_PUB_LEN);
	memcpy(kb.signed_prekey_sig, wb->signed_prekey.sig, KEYGEN_SIG_LEN);
	memcpy(kb.identity_pub, resp->u.resp.identity_key, KEYGEN_PUB_LEN);
	if (idstore_check(c->db, name, kb.device_id, kb.identity_pub, KEYGEN_PUB_LEN, &trust, e) <
	    0)
		return -1;
	if (account_keys_begin(c, e) < 0)
		return -1;
	if (e2e_session_build(c->store, c->sig, name, kb.device_id, &kb, e) < 0) {
		db_rollback(c->db, NULL);
		if (e->code == ERR_UNTRUSTED)
			account_identity_changed(c, name, true);
		return -1;
	}
	if (db_commit(c->db, e) < 0)
		return -1;
	if (trust == IDSTORE_CHANGED)
		account_identity_changed(c, name, false);
	return 0;
}

/* A bundle fetch is over: tell its caller and every caller that joined. */
static void
account_fetch_finish(struct account_job *j, int rc, const struct err *e)
{
	struct account_job **p;
	struct account_waiter *w, *next;

	for (p = &j->c->account->fetches; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	for (w = j->waiters; w != NULL; w = next) {
		next = w->next;
		if (w->done != NULL)
			w->done(j->c, rc, e, w->arg);
		free(w);
	}
	account_job_finish(j, rc, e);
}

static void
account_bundles_fetched(void *arg, const struct wire_frame *resp, const struct err *resp_err)
{
	struct account_job *j = arg;
	struct core *c = j->c;
	struct err e = {0}, first = {0};
	size_t i;
	int rc = 0;

	if (account_reply_rc(resp, resp_err, &e) < 0) {
		account_fetch_finish(j, -1, &e);
		return;
	}
	if (c->db == NULL) {
		err_set(&e, ERR_INTERNAL, "the database closed meanwhile");
		account_fetch_finish(j, -1, &e);
		return;
	}
	/* Every device gets its chance; the first failure is reported, a
	 * blocked identity before anything else. */
	for (i = 0; i < resp->u.resp.n_bundles; i++) {
		if (account_build_one(c, j->name, resp, &resp->u.resp.bundles[i], &e) == 0)
			continue;
		if (rc == 0 || (e.code == ERR_UNTRUSTED && first.code != ERR_UNTRUSTED))
			first = e;
		rc = -1;
	}
	account_fetch_finish(j, rc, rc < 0 ? &first : NULL);
}

int
account_fetch_sessions(struct core *c, const char *name, uint32_t device, account_done_fn *done,
                       void *arg, struct err *e)
{
	struct account_waiter *w;
	struct account_job *j;
	struct wire_frame f;

	if (name == NULL || !wire_name_valid(name))
		return err_set(e, ERR_INVALID, "bad account name");
	if (c->db == NULL || !account_online(c))
		return account_offline_err(e);
	/* The same keys already on their way (or all of name's devices):
	 * wait for them. Each fetch takes one of the peer's one-time
	 * prekeys, and the relay limits how often we may ask. */
	for (j = c->account->fetches; j != NULL; j = j->next)
		if (strcmp(j->name, name) == 0 && (j->device == 0 || j->device == device)) {
			w = xcalloc(1, sizeof *w);
			w->done = done;
			w->arg = arg;
			w->next = j->waiters;
			j->waiters = w;
			return 0;
		}
	memset(&f, 0, sizeof f);
	f.type = WIRE_T_KEYS_FETCH;
	snprintf(f.u.req.u.keys_fetch.account, sizeof f.u.req.u.keys_fetch.account, "%s", name);
	f.u.req.u.keys_fetch.device = device;
	j = account_job_new(c, done, arg);
	snprintf(j->name, sizeof j->name, "%s", name);
	j->device = device;
	if (transport_request(c->tp, &f, account_bundles_fetched, j, e) < 0) {
		free(j);
		return -1;
	}
	j->next = c->account->fetches;
	c->account->fetches = j;
	return 0;
}

/* ---- contacts.add: a name checked against the relay ---- */

/* One "contacts.add" waiting for the relay. It is answered by the fetch
 * or by the timer, whichever comes first; it is freed by the fetch, which
 * always ends (at the latest when the transport goes). */
struct account_add {
	struct core *c;
	struct engine_req *req; /* NULL once answered */
	lws_sorted_usec_list_t timer;
	char name[WIRE_NAME_MAX + 1];
};

static void
account_add_timeout(lws_sorted_usec_list_t *sul)
{
	struct account_add *a = lws_container_of(sul, struct account_add, timer);
	struct err e = {0};

	if (a->req == NULL)
		return;
	err_set(&e, ERR_NETWORK, "cannot reach the relay (no answer within %d s): %s was not added",
	        ACCOUNT_ADD_TIMEOUT_MS / 1000, a->name);
	engine_req_fail_err(a->req, &e);
	a->req = NULL;
}

static void
account_add_fetched(struct core *c, int rc, const struct err *why, void *arg)
{
	struct account_add *a = arg;
	struct err e = {0};

	lws_sul_cancel(&a->timer);
	if (a->req == NULL) {
		free(a);
		return;
	}
	if (rc < 0) {
		e = *why;
		if (e.code == ERR_NOTFOUND)
			err_set(&e, ERR_NOTFOUND, "there is no account %s on the relay", a->name);
		else if (e.code == ERR_NETWORK)
			err_prefix(&e, "cannot reach the relay");
		engine_req_fail_err(a->req, &e);
	} else if (c->db == NULL || contacts_ensure(c->db, a->name, &e) < 0) {
		if (c->db == NULL)
			err_set(&e, ERR_INTERNAL, "the database closed meanwhile");
		engine_req_fail_err(a->req, &e);
	} else {
		engine_req_reply(a->req, json_pack("{s:s,s:b}", "name", a->name, "added", 1));
	}
	free(a);
}

void
account_method_contacts_add(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *name = json_string_value(json_object_get(params, "name"));
	struct contacts_entry known;
	struct account_add *a;
	struct err e = {0};
	int r;

	if (name == NULL || !wire_name_valid(name)) {
		err_set(&e, ERR_INVALID, "contacts.add: not a valid account name");
		goto fail;
	}
	if (c->db == NULL) {
		err_set(&e, ERR_NOTFOUND, "this profile has no account yet: register first");
		goto fail;
	}
	if (c->account_name != NULL && strcmp(name, c->account_name) == 0) {
		err_set(&e, ERR_INVALID, "%s is this profile's own account", name);
		goto fail;
	}
	/* A contact already: nothing to ask, and no prekey of theirs taken. */
	r = contacts_get(c->db, name, &known, &e);
	if (r == 0) {
		contacts_entry_clear(&known);
		engine_req_reply(req, json_pack("{s:s,s:b}", "name", name, "added", 0));
		return;
	}
	if (e.code != ERR_NOTFOUND)
		goto fail;
	/* The relay only tells whether an account exists by handing out its
	 * bundles (keys.fetch); the sessions built from them serve the first
	 * message, so the one-time prekeys taken are not wasted. */
	a = xcalloc(1, sizeof *a);
	a->c = c;
	a->req = req;
	snprintf(a->name, sizeof a->name, "%s", name);
	if (account_fetch_sessions(c, name, 0, account_add_fetched, a, &e) < 0) {
		free(a);
		if (e.code == ERR_NETWORK)
			err_set(&e, ERR_NETWORK, "cannot reach the relay (%s): %s was not added",
			        account_conn_name(c->conn), name);
		goto fail;
	}
	lws_sul_schedule(engine_lws_context(c->eng), 0, &a->timer, account_add_timeout,
	                 (lws_usec_t)ACCOUNT_ADD_TIMEOUT_MS * 1000);
	return;
fail:
	engine_req_fail_err(req, &e);
}
