/* Tests of the account half of the engine core against the real
 * sotto-relay: registration creates a private profile and uploads its
 * keys, a taken name leaves nothing behind, a registration cut short is
 * finished later with the same keys, a wrong passphrase changes nothing,
 * key files open at start, prekeys are refilled when they run low, and
 * peers' bundles become sessions. A real engine (socket, lock,
 * loop) hosts the core; msg.c is replaced by the counting stubs below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "core.h"
#include "msg.h"
#include "crypto/cprov.h"
#include "crypto/e2e.h"
#include "crypto/keygen.h"
#include "engine.h"
#include "ipc.h"
#include "store/contacts.h"
#include "store/db.h"
#include "store/idstore.h"
#include "store/kdf.h"
#include "tests/relay_fixture.h"
#include "transport.h"
#include "util/err.h"
#include "wire/wire.h"

#define WAIT_MS 10000

static char tmp_root[256];
static struct relay_fixture relay;
static char *relay_url;

/* ---- msg.c stand-ins ---- */

static unsigned n_unlocked, n_connected, n_envelopes, n_queue_empty;
static char last_from[WIRE_NAME_MAX + 1];

int
msg_init(struct core *c, struct err *e)
{
	(void)c;
	(void)e;
	return 0;
}

void
msg_free(struct core *c)
{
	(void)c;
}

void
msg_on_unlocked(struct core *c)
{
	(void)c;
	n_unlocked++;
}

void
msg_on_connected(struct core *c)
{
	(void)c;
	n_connected++;
}

void
msg_on_envelope(struct core *c, const struct wire_envelope *env)
{
	(void)c;
	n_envelopes++;
	snprintf(last_from, sizeof last_from, "%s", env->from);
}

void
msg_on_queue_empty(struct core *c)
{
	(void)c;
	n_queue_empty++;
}

void
msg_flush(struct core *c)
{
	(void)c;
}

/* ---- an engine with a core on a profile directory ---- */

struct host {
	struct profile prof;
	struct engine *eng;
	struct core *c;
	lws_sorted_usec_list_t tick;
};

struct done {
	int calls;
	int rc;
	struct err e;
};

static void
on_done(struct core *c, int rc, const struct err *e, void *arg)
{
	struct done *d = arg;
	(void)c;

	d->calls++;
	d->rc = rc;
	if (e != NULL)
		d->e = *e;
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct host *h = lws_container_of(sul, struct host, tick);

	lws_sul_schedule(engine_lws_context(h->eng), 0, sul, tick, 20 * 1000);
}

static char *
profile_dir(const char *name)
{
	char *dir = xasprintf("%s/%s", tmp_root, name);

	mkdir(dir, 0700);
	return dir;
}

static void
host_start(struct host *h, const char *name)
{
	struct engine_config cfg = {0};
	struct transport_config tune = {0};
	struct err e = {0};

	memset(h, 0, sizeof *h);
	h->prof.name = xstrdup(name);
	h->prof.dir = profile_dir(name);
	cfg.profile = &h->prof;
	cfg.persistent = true;
	h->eng = engine_new(&cfg, &e);
	if (h->eng == NULL)
		fail_msg("engine_new: %s", e.msg);
	h->c = core_new(h->eng, &e);
	if (h->c == NULL)
		fail_msg("core_new: %s", e.msg);
	account_set_kdf_cost(h->c, 1, 8192);
	tune.keepalive_ms = 2000;
	tune.backoff_min_ms = 20;
	tune.backoff_max_ms = 200;
	account_set_transport_tuning(h->c, &tune);
	tick(&h->tick);
}

static void
host_stop(struct host *h)
{
	lws_sul_cancel(&h->tick);
	core_free(h->c);
	engine_free(h->eng);
	profile_clear(&h->prof);
}

static void
serve_until(struct host *h, int (*cond)(void *), void *arg)
{
	int64_t deadline = relay_fixture_now_ms() + WAIT_MS;

	while (!cond(arg) && relay_fixture_now_ms() < deadline)
		lws_service(engine_lws_context(h->eng), 0);
	assert_true(cond(arg));
}

static int
done_called(void *arg)
{
	return ((struct done *)arg)->calls > 0;
}

static int
is_connected(void *arg)
{
	struct core *c = arg;

	return c->conn == CORE_CONN_CONNECTED;
}

static struct done
do_register(struct host *h, const char *name, bool keyfile, const char *pass)
{
	struct account_register_params p = {0};
	struct done d = {0};
	struct err e = {0};

	p.name = name;
	p.relay = relay_url;
	p.keyfile = keyfile;
	p.passphrase = pass;
	p.passphrase_len = pass != NULL ? strlen(pass) : 0;
	if (account_register(h->c, &p, on_done, &d, &e) < 0) {
		d.calls = 1;
		d.rc = -1;
		d.e = e;
		return d;
	}
	serve_until(h, done_called, &d);
	assert_int_equal(d.calls, 1);
	return d;
}

/* A profile registered as name with the passphrase "right passphrase",
 * its engine started again: locked. */
static void
host_start_locked(struct host *h, const char *dir, const char *name)
{
	struct done d;

	host_start(h, dir);
	d = do_register(h, name, false, "right passphrase");
	assert_int_equal(d.rc, 0);
	host_stop(h);
	host_start(h, dir);
	assert_true(engine_is_locked(h->eng));
}

struct count_reply {
	int done;
	int status;
	uint64_t count;
};

static void
on_count(void *arg, const struct wire_frame *resp, const struct err *e)
{
	struct count_reply *r = arg;
	(void)e;

	r->done = 1;
	r->status = resp != NULL ? resp->u.resp.status : -1;
	r->count = resp != NULL ? resp->u.resp.count : 0;
}

static int
count_done(void *arg)
{
	return ((struct count_reply *)arg)->done;
}

/* keys.count through the core's own connection. */
static uint64_t
relay_prekey_count(struct host *h)
{
	struct count_reply r = {0};
	struct wire_frame f = {0};
	struct err e = {0};

	f.type = WIRE_T_KEYS_COUNT;
	assert_int_equal(transport_request(h->c->tp, &f, on_count, &r, &e), 0);
	serve_until(h, count_done, &r);
	assert_int_equal(r.status, 200);
	return r.count;
}

static int
file_mode(struct host *h, const char *file)
{
	char *path = profile_path(&h->prof, file);
	struct stat st;
	int r = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;

	free(path);
	return r;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A peer registered by the fixture, with prekeys on the relay. */
static struct relay_fixture_peer *
fixture_peer(struct relay_fixture_acct *a, const char *name)
{
	struct relay_fixture_peer *p;
	struct wire_prekey pk[5];
	struct wire_frame req = {0}, resp;

	relay_fixture_acct_init(a, name);
	p = relay_fixture_register(relay.port, a);
	relay_fixture_prekeys(pk, 5, 1);
	req.type = WIRE_T_KEYS_UPLOAD;
	req.u.req.u.keys_upload.prekeys = pk;
	req.u.req.u.keys_upload.n_prekeys = 5;
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	return p;
}

/* Take n of name's one-time prekeys with keys.fetch. */
static void
drain_prekeys(struct relay_fixture_peer *p, const char *name, int n)
{
	struct wire_frame req, resp;
	int i;

	for (i = 0; i < n; i++) {
		memset(&req, 0, sizeof req);
		req.type = WIRE_T_KEYS_FETCH;
		snprintf(req.u.req.u.keys_fetch.account, sizeof req.u.req.u.keys_fetch.account,
		         "%s", name);
		resp = relay_fixture_call(p, &req);
		assert_int_equal(resp.u.resp.status, 200);
		wire_frame_free(&resp);
	}
}

/* ---- setup ---- */

static int
group_setup(void **state)
{
	struct err e = {0};
	char *data;
	const char *tmp = getenv("TMPDIR");
	(void)state;

	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL));
	lws_set_log_level(LLL_ERR, NULL);
	if (cprov_context_create(&relay_fixture_signal_ctx, &e) < 0)
		return -1;
	snprintf(tmp_root, sizeof tmp_root, "%s/account-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(tmp_root) == NULL)
		return -1;
	data = xasprintf("%s/relay", tmp_root);
	relay_fixture_start(&relay, data, "--prekey-fetch-rate", "1000");
	free(data);
	relay_url = xasprintf("ws://127.0.0.1:%d", relay.port);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;

	free(relay_url);
	return relay_fixture_finish(&relay, tmp_root);
}

/* ---- tests ---- */

static void
test_register_creates_private_profile_and_uploads_keys(void **state)
{
	struct host h;
	struct done d;
	unsigned unlocked = n_unlocked, connected = n_connected;
	(void)state;

	host_start(&h, "p.register");
	assert_false(engine_is_locked(h.eng));
	assert_null(h.c->db);
	d = do_register(&h, "acct.alice", false, "correct horse");
	assert_int_equal(d.rc, 0);
	assert_string_equal(h.c->account_name, "acct.alice");
	assert_int_equal(h.c->device_id, 1);
	assert_string_equal(h.c->relay_url, relay_url);
	assert_non_null(h.c->db);
	assert_int_equal(h.c->conn, CORE_CONN_CONNECTED);
	assert_int_equal(n_unlocked, unlocked + 1);
	assert_true(n_connected > connected);

	assert_int_equal(file_mode(&h, "."), 0700);
	assert_int_equal(file_mode(&h, DB_FILE), 0600);
	assert_int_equal(file_mode(&h, KDF_PARAMS_FILE), 0600);
	assert_int_equal(file_mode(&h, KDF_KEY_FILE), -1); /* passphrase profile */
	assert_int_equal(relay_prekey_count(&h), ACCOUNT_PREKEY_BATCH);
	host_stop(&h);
}

static void
test_taken_name_is_refused_and_profile_removed(void **state)
{
	struct relay_fixture_acct owner;
	struct host h;
	struct done d;
	(void)state;

	relay_fixture_acct_init(&owner, "acct.taken");
	relay_fixture_close(relay_fixture_register(relay.port, &owner));
	host_start(&h, "p.taken");
	d = do_register(&h, "acct.taken", false, "pass");
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_EXISTS);
	/* Nothing of the attempt is left: no database, no sidecar. */
	assert_null(h.c->db);
	assert_null(h.c->account_name);
	assert_int_equal(file_mode(&h, DB_FILE), -1);
	assert_int_equal(file_mode(&h, KDF_PARAMS_FILE), -1);
	assert_int_equal(file_mode(&h, "store.db-wal"), -1);
	assert_false(engine_is_locked(h.eng));

	/* So another name works at once in the same profile. */
	d = do_register(&h, "acct.untaken", false, "pass");
	assert_int_equal(d.rc, 0);
	assert_string_equal(h.c->account_name, "acct.untaken");
	/* And a second registration of a registered profile is refused. */
	d = do_register(&h, "acct.third", false, "pass");
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_EXISTS);
	host_stop(&h);
	relay_fixture_acct_free(&owner);
}

static void
test_register_refuses_bad_input_up_front(void **state)
{
	struct account_register_params p = {0};
	struct host h;
	struct err e = {0};
	(void)state;

	host_start(&h, "p.badinput");
	p.name = "Not A Name";
	p.relay = relay_url;
	p.passphrase = "x";
	p.passphrase_len = 1;
	assert_int_equal(account_register(h.c, &p, on_done, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	p.name = "acct.ok";
	p.relay = "http://example.org";
	assert_int_equal(account_register(h.c, &p, on_done, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	p.relay = relay_url;
	p.passphrase = NULL;
	p.passphrase_len = 0;
	assert_int_equal(account_register(h.c, &p, on_done, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(file_mode(&h, DB_FILE), -1);
	/* Unlocking a profile without an account says so. */
	assert_int_equal(account_unlock(h.c, "x", 1, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	host_stop(&h);
}

static void
test_wrong_passphrase_is_refused_and_changes_nothing(void **state)
{
	struct host h;
	struct err e = {0};
	char *path, *before, *after;
	size_t before_len, after_len;
	(void)state;

	/* A passphrase profile starts locked, without touching the db. */
	host_start_locked(&h, "p.unlock", "acct.locked");
	assert_null(h.c->db);
	assert_null(h.c->tp);
	path = profile_path(&h.prof, DB_FILE);
	before = read_file(path, &before_len);
	assert_int_equal(account_unlock(h.c, "wrong passphrase", 16, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	assert_true(engine_is_locked(h.eng));
	assert_null(h.c->db);
	assert_null(h.c->tp);
	assert_null(h.c->account_name);
	after = read_file(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);

	/* The right one opens it, and the account connects again. */
	assert_int_equal(account_unlock(h.c, "right passphrase", 16, &e), 0);
	assert_false(engine_is_locked(h.eng));
	assert_string_equal(h.c->account_name, "acct.locked");
	serve_until(&h, is_connected, h.c);
	/* Unlocking again is harmless. */
	assert_int_equal(account_unlock(h.c, "whatever", 8, &e), 0);
	free(before);
	free(after);
	free(path);
	host_stop(&h);
}

static int
queue_emptied(void *arg)
{
	return n_queue_empty > *(unsigned *)arg;
}

static int
envelope_arrived(void *arg)
{
	return n_envelopes > *(unsigned *)arg;
}

/* ---- unlock off the loop, seen by frontends on engine.sock ---- */

struct frontend {
	struct host *h;
	struct ipc_conn io;
	json_t *reply; /* the last answer read */
	bool fresh;    /* reply is new: serve_until asks its condition twice */
};

static void
frontend_open(struct frontend *f, struct host *h)
{
	struct err e = {0};
	int fd = ipc_connect(h->prof.dir, &e);

	if (fd < 0)
		fail_msg("ipc_connect: %s", e.msg);
	assert_int_equal(ipc_set_nonblocking(fd, true, &e), 0);
	memset(f, 0, sizeof *f);
	f->h = h;
	ipc_conn_init(&f->io, fd);
}

static void
frontend_close(struct frontend *f)
{
	json_decref(f->reply);
	ipc_conn_clear(&f->io);
}

static void
frontend_send(struct frontend *f, int id, const char *method, json_t *params)
{
	json_t *req = json_pack("{s:s,s:i,s:s}", "jsonrpc", "2.0", "id", id, "method", method);
	struct err e = {0};
	char *line;

	if (params != NULL)
		json_object_set_new(req, "params", params);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	assert_int_equal(ipc_conn_queue_line(&f->io, line, strlen(line), &e), 0);
	free(line);
	assert_int_equal(ipc_conn_flush(&f->io, &e), 0);
}

/* Serve the engine until this frontend reads a line; keep it. */
static int
frontend_has_reply(void *arg)
{
	struct frontend *f = arg;
	struct err e = {0};
	char *line;
	size_t len;

	if (f->fresh)
		return 1;
	if (ipc_conn_next_line(&f->io, &line, &len, &e) == 0) {
		ipc_conn_read(&f->io, &e);
		if (ipc_conn_next_line(&f->io, &line, &len, &e) <= 0)
			return 0;
	}
	json_decref(f->reply);
	f->reply = json_loadb(line, len, 0, NULL);
	f->fresh = f->reply != NULL;
	return f->fresh;
}

static json_t *
frontend_call(struct frontend *f, int id, const char *method, json_t *params)
{
	frontend_send(f, id, method, params);
	f->fresh = false;
	serve_until(f->h, frontend_has_reply, f);
	assert_int_equal(json_integer_value(json_object_get(f->reply, "id")), id);
	return f->reply;
}

static void
test_status_is_answered_while_an_unlock_derives_its_key(void **state)
{
	struct host h;
	struct frontend a, b;
	json_t *r, *res;
	int gate[2], i;
	char *path, *before, *after;
	size_t before_len, after_len;
	(void)state;

	host_start_locked(&h, "p.slowunlock", "acct.slowunlock");
	path = profile_path(&h.prof, DB_FILE);
	before = read_file(path, &before_len);
	assert_int_equal(pipe(gate), 0);
	account_set_unlock_gate(h.c, gate[0]);
	frontend_open(&a, &h);
	frontend_open(&b, &h);

	/* A wrong passphrase, held on its thread: b is answered meanwhile. */
	frontend_send(&a, 1, "unlock", json_pack("{s:s}", "passphrase", "wrong passphrase"));
	for (i = 0; i < 1000 && !account_unlocking(h.c); i++)
		lws_service(engine_lws_context(h.eng), 0);
	assert_true(account_unlocking(h.c));
	res = json_object_get(frontend_call(&b, 2, "status", NULL), "result");
	assert_true(json_is_true(json_object_get(res, "locked")));
	assert_true(json_is_true(json_object_get(res, "unlocking")));
	res = json_object_get(frontend_call(&b, 3, "engine.info", NULL), "result");
	assert_int_equal(json_integer_value(json_object_get(res, "frontends")), 2);
	/* A second unlock is refused while the first runs. */
	r = frontend_call(&b, 4, "unlock", json_pack("{s:s}", "passphrase", "right passphrase"));
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
	           "already under way"));
	assert_int_equal(write(gate[1], "x", 1), 1);
	a.fresh = false;
	serve_until(&h, frontend_has_reply, &a);
	r = a.reply;
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	assert_null(json_object_get(r, "result"));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_object_get(r, "error"), "data"), "reason")),
	                    err_code_name(ERR_BADKEY));
	assert_true(engine_is_locked(h.eng));
	assert_false(account_unlocking(h.c));
	assert_null(h.c->db);
	after = read_file(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);

	/* The right one, also held: status still answers, then it opens. */
	frontend_send(&a, 5, "unlock", json_pack("{s:s}", "passphrase", "right passphrase"));
	for (i = 0; i < 1000 && !account_unlocking(h.c); i++)
		lws_service(engine_lws_context(h.eng), 0);
	res = json_object_get(frontend_call(&b, 6, "status", NULL), "result");
	assert_true(json_is_true(json_object_get(res, "unlocking")));
	assert_int_equal(write(gate[1], "x", 1), 1);
	a.fresh = false;
	serve_until(&h, frontend_has_reply, &a);
	assert_int_equal(json_integer_value(json_object_get(a.reply, "id")), 5);
	assert_true(json_is_object(json_object_get(a.reply, "result")));
	assert_false(engine_is_locked(h.eng));
	assert_string_equal(h.c->account_name, "acct.slowunlock");
	res = json_object_get(frontend_call(&b, 7, "status", NULL), "result");
	assert_false(json_is_true(json_object_get(res, "locked")));
	assert_false(json_is_true(json_object_get(res, "unlocking")));
	serve_until(&h, is_connected, h.c);

	frontend_close(&a);
	frontend_close(&b);
	close(gate[0]);
	close(gate[1]);
	free(before);
	free(after);
	free(path);
	host_stop(&h);
}

static void
test_keyfile_profile_opens_and_connects_at_start(void **state)
{
	struct relay_fixture_acct peer;
	struct relay_fixture_peer *p;
	struct wire_frame resp;
	struct host h;
	struct done d;
	struct err e = {0};
	unsigned queue_empty_before, envelopes_before;
	uint32_t reg;
	char *mid;
	(void)state;

	host_start(&h, "p.keyfile");
	d = do_register(&h, "acct.unattended", true, NULL);
	assert_int_equal(d.rc, 0);
	assert_int_equal(file_mode(&h, KDF_KEY_FILE), 0600);
	host_stop(&h);

	queue_empty_before = n_queue_empty;
	host_start(&h, "p.keyfile");
	assert_false(engine_is_locked(h.eng));
	assert_non_null(h.c->db);
	assert_string_equal(h.c->account_name, "acct.unattended");
	serve_until(&h, is_connected, h.c);

	/* What the relay pushes reaches msg.c. */
	serve_until(&h, queue_emptied, &queue_empty_before);
	p = fixture_peer(&peer, "acct.sender");
	envelopes_before = n_envelopes;
	mid = relay_fixture_msg_id(7);
	{
		unsigned char *pub = NULL;
		size_t pub_len = 0;
		uint32_t dev = 1;

		assert_int_equal(idstore_get_local(h.c->db, &pub, &pub_len, NULL, NULL, &reg, &e),
		                 0);
		free(pub);
		resp = relay_fixture_send(p, "acct.unattended", mid, &dev, &reg, 1, "ciphertext");
	}
	assert_int_equal(resp.u.resp.status, 200);
	wire_frame_free(&resp);
	free(mid);
	serve_until(&h, envelope_arrived, &envelopes_before);
	assert_string_equal(last_from, "acct.sender");
	relay_fixture_close(p);
	relay_fixture_acct_free(&peer);
	host_stop(&h);
}

static int
count_at_least_100(void *arg)
{
	struct host *h = arg;

	return relay_prekey_count(h) >= 100;
}

static void
test_prekeys_are_refilled_when_they_run_low(void **state)
{
	struct relay_fixture_acct fetcher;
	struct relay_fixture_peer *p;
	struct host h;
	struct done d = {0};
	struct err e = {0};
	uint64_t n;
	(void)state;

	host_start(&h, "p.refill");
	assert_int_equal(do_register(&h, "acct.refill", false, "pass").rc, 0);
	p = fixture_peer(&fetcher, "acct.fetcher");

	/* Above the threshold nothing is uploaded. */
	drain_prekeys(p, "acct.refill", 10);
	assert_int_equal(account_check_prekeys(h.c, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, 0);
	assert_int_equal(relay_prekey_count(&h), 90);

	/* Below it a batch goes up. */
	drain_prekeys(p, "acct.refill", 75);
	memset(&d, 0, sizeof d);
	assert_int_equal(account_check_prekeys(h.c, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, 0);
	assert_int_equal(relay_prekey_count(&h), 15 + ACCOUNT_PREKEY_BATCH);

	/* Under 10 the relay pushes keys.low and the core refills alone. */
	drain_prekeys(p, "acct.refill", 110);
	n = relay_prekey_count(&h);
	if (n < 100)
		serve_until(&h, count_at_least_100, &h);
	assert_true(relay_prekey_count(&h) >= 100);
	relay_fixture_close(p);
	relay_fixture_acct_free(&fetcher);
	host_stop(&h);
}

static void
test_signed_prekey_is_rotated_when_due(void **state)
{
	struct host h;
	struct done d = {0};
	struct err e = {0};
	struct relay_fixture_acct fetcher;
	struct relay_fixture_peer *p;
	struct wire_frame req = {0}, resp;
	uint32_t first_id;
	(void)state;

	host_start(&h, "p.rotate");
	assert_int_equal(do_register(&h, "acct.rotate", false, "pass").rc, 0);
	p = fixture_peer(&fetcher, "acct.rotfetch");
	req.type = WIRE_T_KEYS_FETCH;
	strcpy(req.u.req.u.keys_fetch.account, "acct.rotate");
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	first_id = resp.u.resp.bundles[0].signed_prekey.id;
	wire_frame_free(&resp);

	/* Not due yet: the relay keeps the same signed prekey. */
	assert_int_equal(
	    account_check_signed_prekey(h.c, (uint64_t)time(NULL) * 1000, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, 0);
	/* Three days later it is replaced, and the relay serves the new one. */
	memset(&d, 0, sizeof d);
	assert_int_equal(account_check_signed_prekey(
	                     h.c, (uint64_t)time(NULL) * 1000 + 3 * KEYGEN_DAY_MS, on_done, &d, &e),
	                 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, 0);
	memset(&req, 0, sizeof req);
	req.type = WIRE_T_KEYS_FETCH;
	strcpy(req.u.req.u.keys_fetch.account, "acct.rotate");
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	assert_int_not_equal(resp.u.resp.bundles[0].signed_prekey.id, first_id);
	wire_frame_free(&resp);
	relay_fixture_close(p);
	relay_fixture_acct_free(&fetcher);
	host_stop(&h);
}

static void
test_fetch_builds_sessions_and_reports_untrusted_identity(void **state)
{
	struct relay_fixture_acct bob, carol;
	struct relay_fixture_peer *pb, *pc;
	struct host h;
	struct done d = {0};
	struct err e = {0};
	uint8_t fake[WIRE_KEY_LEN];
	(void)state;

	host_start(&h, "p.fetch");
	assert_int_equal(do_register(&h, "acct.fetch", false, "pass").rc, 0);
	pb = fixture_peer(&bob, "acct.bob");
	pc = fixture_peer(&carol, "acct.carol");

	assert_int_equal(e2e_has_session(h.c->store, "acct.bob", 1, &e), 0);
	assert_int_equal(account_fetch_sessions(h.c, "acct.bob", 0, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, 0);
	assert_int_equal(e2e_has_session(h.c->store, "acct.bob", 1, &e), 1);

	/* We verified another key for carol: her real one is refused. */
	memset(fake, 0x42, sizeof fake);
	fake[0] = 0x05;
	assert_int_equal(idstore_save(h.c->db, "acct.carol", 1, fake, sizeof fake, &e), 0);
	assert_int_equal(idstore_set_verified(h.c->db, "acct.carol", fake, sizeof fake, true, &e),
	                 0);
	memset(&d, 0, sizeof d);
	assert_int_equal(account_fetch_sessions(h.c, "acct.carol", 0, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_UNTRUSTED);
	assert_int_equal(e2e_has_session(h.c->store, "acct.carol", 1, &e), 0);

	/* An unknown account is not found. */
	memset(&d, 0, sizeof d);
	assert_int_equal(account_fetch_sessions(h.c, "acct.nobody", 0, on_done, &d, &e), 0);
	serve_until(&h, done_called, &d);
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_NOTFOUND);
	relay_fixture_close(pb);
	relay_fixture_close(pc);
	relay_fixture_acct_free(&bob);
	relay_fixture_acct_free(&carol);
	host_stop(&h);
}

/* contacts.add over engine.sock: an account the relay knows becomes a
 * contact (with a session ready), an unknown one is "notfound" and adds
 * nothing, and a known contact is answered without asking the relay. */
static void
test_contacts_add_asks_the_relay_before_adding(void **state)
{
	struct relay_fixture_acct dave;
	struct relay_fixture_peer *pd;
	struct contacts_entry ce;
	struct frontend f;
	struct host h;
	struct err e = {0};
	json_t *r;
	(void)state;

	host_start(&h, "p.add");
	assert_int_equal(do_register(&h, "acct.adder", false, "pass").rc, 0);
	serve_until(&h, is_connected, h.c);
	pd = fixture_peer(&dave, "acct.dave");
	frontend_open(&f, &h);

	r = frontend_call(&f, 1, "contacts.add", json_pack("{s:s}", "name", "acct.nobody"));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_object_get(r, "error"), "data"), "reason")),
	                    err_code_name(ERR_NOTFOUND));
	assert_int_equal(contacts_get(h.c->db, "acct.nobody", &ce, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);

	r = frontend_call(&f, 2, "contacts.add", json_pack("{s:s}", "name", "acct.dave"));
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "added")));
	assert_int_equal(contacts_get(h.c->db, "acct.dave", &ce, &e), 0);
	contacts_entry_clear(&ce);
	assert_int_equal(e2e_has_session(h.c->store, "acct.dave", 1, &e), 1);
	/* Known now: answered at once, even with no relay connection. */
	account_stop(h.c);
	r = frontend_call(&f, 3, "contacts.add", json_pack("{s:s}", "name", "acct.dave"));
	assert_true(json_is_false(json_object_get(json_object_get(r, "result"), "added")));
	/* Not known and no relay: refused at once, nothing added. */
	r = frontend_call(&f, 4, "contacts.add", json_pack("{s:s}", "name", "acct.other"));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_object_get(r, "error"), "data"), "reason")),
	                    err_code_name(ERR_NETWORK));
	assert_int_equal(contacts_get(h.c->db, "acct.other", &ce, &e), -1);

	frontend_close(&f);
	relay_fixture_close(pd);
	relay_fixture_acct_free(&dave);
	host_stop(&h);
}

/* keys.count of a fixture peer, over its own connection. */
static uint64_t
peer_prekey_count(struct relay_fixture_peer *p)
{
	struct wire_frame req = {0}, resp;
	uint64_t n;

	req.type = WIRE_T_KEYS_COUNT;
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	n = resp.u.resp.count;
	wire_frame_free(&resp);
	return n;
}

static void
test_concurrent_fetches_for_one_peer_take_one_prekey(void **state)
{
	struct relay_fixture_acct bob;
	struct relay_fixture_peer *pb;
	struct done d[3] = {{0}};
	struct host h;
	struct err e = {0};
	uint64_t before;
	int i;
	(void)state;

	host_start(&h, "p.fetch2");
	assert_int_equal(do_register(&h, "acct.fetch2", false, "pass").rc, 0);
	pb = fixture_peer(&bob, "acct.bob2");
	before = peer_prekey_count(pb);
	/* Three sends wanting bob's keys at once: all device ids, then one. */
	assert_int_equal(account_fetch_sessions(h.c, "acct.bob2", 0, on_done, &d[0], &e), 0);
	assert_int_equal(account_fetch_sessions(h.c, "acct.bob2", 0, on_done, &d[1], &e), 0);
	assert_int_equal(account_fetch_sessions(h.c, "acct.bob2", 1, on_done, &d[2], &e), 0);
	for (i = 0; i < 3; i++) {
		serve_until(&h, done_called, &d[i]);
		assert_int_equal(d[i].rc, 0);
		assert_int_equal(d[i].calls, 1);
	}
	assert_int_equal(e2e_has_session(h.c->store, "acct.bob2", 1, &e), 1);
	assert_int_equal(peer_prekey_count(pb), before - 1);
	relay_fixture_close(pb);
	relay_fixture_acct_free(&bob);
	host_stop(&h);
}

static void
test_pin_accepts_plain_and_colon_fingerprints(void **state)
{
	uint8_t pin[32], want[32];
	struct err e = {0};
	char plain[65], colons[97];
	size_t i;
	(void)state;

	for (i = 0; i < 32; i++) {
		want[i] = (uint8_t)(i * 7 + 0xa0);
		snprintf(plain + 2 * i, 3, "%02x", want[i]);
		snprintf(colons + 3 * i, 4, "%02X:", want[i]);
	}
	colons[95] = '\0';
	assert_int_equal(account_parse_pin(plain, pin, &e), 0);
	assert_memory_equal(pin, want, 32);
	memset(pin, 0, sizeof pin);
	assert_int_equal(account_parse_pin(colons, pin, &e), 0);
	assert_memory_equal(pin, want, 32);
	plain[63] = '\0';
	assert_int_equal(account_parse_pin(plain, pin, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	plain[63] = 'g';
	assert_int_equal(account_parse_pin(plain, pin, &e), -1);
	assert_int_equal(account_parse_pin("", pin, &e), -1);
}

/* ---- registrations cut short ---- */

/* Nothing listens on port 1: the connection is refused at once. */
#define DEAD_RELAY "ws://127.0.0.1:1"

static struct done
do_register_at(struct host *h, const char *name, const char *url, const char *pass)
{
	struct account_register_params p = {0};
	struct done d = {0};
	struct err e = {0};

	p.name = name;
	p.relay = url;
	p.keyfile = pass == NULL; /* ignored when finishing a registration */
	p.passphrase = pass;
	p.passphrase_len = pass != NULL ? strlen(pass) : 0;
	if (account_register(h->c, &p, on_done, &d, &e) < 0) {
		d.calls = 1;
		d.rc = -1;
		d.e = e;
		return d;
	}
	serve_until(h, done_called, &d);
	assert_int_equal(d.calls, 1);
	return d;
}

/* The profile's own identity public key. */
static void
local_identity(struct host *h, uint8_t out[WIRE_KEY_LEN])
{
	unsigned char *pub = NULL;
	size_t len = 0;
	struct err e = {0};

	assert_int_equal(idstore_get_local(h->c->db, &pub, &len, NULL, NULL, NULL, &e), 0);
	assert_int_equal(len, WIRE_KEY_LEN);
	memcpy(out, pub, WIRE_KEY_LEN);
	free(pub);
}

/* The identity key the relay hands out for name. */
static void
relay_identity(struct relay_fixture_peer *p, const char *name, uint8_t out[WIRE_KEY_LEN])
{
	struct wire_frame req = {0}, resp;

	req.type = WIRE_T_KEYS_FETCH;
	snprintf(req.u.req.u.keys_fetch.account, sizeof req.u.req.u.keys_fetch.account, "%s", name);
	resp = relay_fixture_call(p, &req);
	assert_int_equal(resp.u.resp.status, 200);
	memcpy(out, resp.u.resp.identity_key, WIRE_KEY_LEN);
	wire_frame_free(&resp);
}

static void
assert_unfinished(struct host *h, const char *name, const char *relay_at)
{
	char *n = NULL, *r = NULL;
	struct err e = {0};

	assert_int_equal(account_unfinished(h->c, &n, &r, &e), 1);
	assert_string_equal(n, name);
	assert_string_equal(r, relay_at);
	free(n);
	free(r);
}

static void
copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf;
	FILE *f;

	if (access(from, F_OK) != 0)
		return;
	buf = read_file(from, &len);
	f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	chmod(to, 0600);
	free(buf);
}

/* A copy of a stopped profile's files: the same keys in another profile. */
static void
copy_profile(const char *from, const char *to)
{
	static const char *const files[] = {DB_FILE, DB_FILE "-wal", KDF_PARAMS_FILE, KDF_KEY_FILE};
	char *dfrom = profile_dir(from), *dto = profile_dir(to);
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *a = xasprintf("%s/%s", dfrom, files[i]),
		     *b = xasprintf("%s/%s", dto, files[i]);

		copy_file(a, b);
		free(a);
		free(b);
	}
	free(dfrom);
	free(dto);
}

static void
test_register_without_relay_keeps_keys_and_retry_sends_them(void **state)
{
	struct relay_fixture_acct fetcher;
	struct relay_fixture_peer *p;
	uint8_t before[WIRE_KEY_LEN], after[WIRE_KEY_LEN], on_relay[WIRE_KEY_LEN];
	struct host h;
	struct done d;
	struct err e = {0};
	(void)state;

	host_start(&h, "p.norelay");
	d = do_register_at(&h, "acct.norelay", DEAD_RELAY, "pass");
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_NETWORK);
	assert_non_null(strstr(d.e.msg, "run the same register command again"));
	/* Not registered, but the keys are kept. */
	assert_null(h.c->account_name);
	assert_null(h.c->tp);
	assert_int_equal(file_mode(&h, DB_FILE), 0600);
	assert_unfinished(&h, "acct.norelay", DEAD_RELAY);
	local_identity(&h, before);
	host_stop(&h);

	/* A later engine: locked until unlocked, then still unfinished. */
	host_start(&h, "p.norelay");
	assert_true(engine_is_locked(h.eng));
	assert_int_equal(do_register_at(&h, "acct.norelay", relay_url, "pass").e.code, ERR_AUTH);
	assert_int_equal(account_unlock(h.c, "pass", 4, &e), 0);
	assert_null(h.c->account_name);
	assert_unfinished(&h, "acct.norelay", DEAD_RELAY);
	/* Another name is refused: it would orphan the first if it went through. */
	d = do_register_at(&h, "acct.other", relay_url, NULL);
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_EXISTS);
	assert_non_null(strstr(d.e.msg, "acct.norelay"));

	/* The same name on the relay that now answers: the same identity,
	 * no passphrase needed, and the one-time prekeys go up. */
	d = do_register_at(&h, "acct.norelay", relay_url, NULL);
	assert_int_equal(d.rc, 0);
	assert_string_equal(h.c->account_name, "acct.norelay");
	assert_string_equal(h.c->relay_url, relay_url);
	assert_int_equal(h.c->conn, CORE_CONN_CONNECTED);
	local_identity(&h, after);
	assert_memory_equal(before, after, WIRE_KEY_LEN);
	p = fixture_peer(&fetcher, "acct.nrfetch");
	relay_identity(p, "acct.norelay", on_relay);
	assert_memory_equal(before, on_relay, WIRE_KEY_LEN);
	/* The fetch above took one; the engine's upkeep may already have
	 * topped the batch up again. */
	assert_true(relay_prekey_count(&h) >= ACCOUNT_PREKEY_BATCH - 1);
	/* Finished: a third run is refused, naming the account. */
	d = do_register_at(&h, "acct.norelay", relay_url, NULL);
	assert_int_equal(d.e.code, ERR_EXISTS);
	assert_non_null(strstr(d.e.msg, "already registered as acct.norelay"));
	host_stop(&h);

	/* And a restart knows the account and its relay. */
	host_start(&h, "p.norelay");
	assert_int_equal(account_unlock(h.c, "pass", 4, &e), 0);
	assert_string_equal(h.c->account_name, "acct.norelay");
	assert_string_equal(h.c->relay_url, relay_url);
	serve_until(&h, is_connected, h.c);
	host_stop(&h);
	relay_fixture_close(p);
	relay_fixture_acct_free(&fetcher);
}

static void
test_register_answered_but_not_recorded_is_finished_by_authenticating(void **state)
{
	uint8_t before[WIRE_KEY_LEN], after[WIRE_KEY_LEN];
	struct host h;
	struct done d;
	(void)state;

	/* An unfinished registration, copied before a run finishes it: the
	 * copy is a profile whose keys the relay took while it never heard
	 * the answer. */
	host_start(&h, "p.lost");
	assert_int_equal(do_register_at(&h, "acct.lost", DEAD_RELAY, NULL).e.code, ERR_NETWORK);
	host_stop(&h);
	copy_profile("p.lost", "p.lost2");
	host_start(&h, "p.lost");
	assert_int_equal(do_register_at(&h, "acct.lost", relay_url, NULL).rc, 0);
	local_identity(&h, before);
	host_stop(&h);

	host_start(&h, "p.lost2");
	assert_false(engine_is_locked(h.eng));
	assert_unfinished(&h, "acct.lost", DEAD_RELAY);
	d = do_register_at(&h, "acct.lost", relay_url, NULL);
	assert_int_equal(d.rc, 0);
	assert_string_equal(h.c->account_name, "acct.lost");
	assert_int_equal(h.c->device_id, 1);
	assert_int_equal(h.c->conn, CORE_CONN_CONNECTED);
	local_identity(&h, after);
	assert_memory_equal(before, after, WIRE_KEY_LEN);
	assert_true(relay_prekey_count(&h) >= ACCOUNT_PREKEY_LOW);
	host_stop(&h);
}

static void
test_unfinished_registration_of_a_name_taken_by_another_is_removed(void **state)
{
	struct relay_fixture_acct owner;
	struct host h;
	struct done d;
	(void)state;

	host_start(&h, "p.stolen");
	assert_int_equal(do_register_at(&h, "acct.stolen", DEAD_RELAY, NULL).e.code, ERR_NETWORK);
	relay_fixture_acct_init(&owner, "acct.stolen");
	relay_fixture_close(relay_fixture_register(relay.port, &owner));
	/* Our secret does not open the account: it is not ours, and the
	 * relay never took our keys. */
	d = do_register_at(&h, "acct.stolen", relay_url, NULL);
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_EXISTS);
	assert_null(h.c->db);
	assert_int_equal(file_mode(&h, DB_FILE), -1);
	assert_int_equal(file_mode(&h, KDF_KEY_FILE), -1);
	/* So the profile is free for another name. */
	assert_int_equal(do_register_at(&h, "acct.notstolen", relay_url, NULL).rc, 0);
	host_stop(&h);
	relay_fixture_acct_free(&owner);
}

static void
test_engine_stopping_during_registration_keeps_keys(void **state)
{
	struct account_register_params p = {0};
	uint8_t before[WIRE_KEY_LEN], after[WIRE_KEY_LEN];
	struct host h;
	struct done d = {0};
	struct err e = {0};
	(void)state;

	host_start(&h, "p.stopped");
	p.name = "acct.stopped";
	p.relay = relay_url;
	p.keyfile = true;
	assert_int_equal(account_register(h.c, &p, on_done, &d, &e), 0);
	local_identity(&h, before);
	/* Stopped before the answer could be read. */
	host_stop(&h);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.rc, -1);
	assert_int_equal(d.e.code, ERR_NETWORK);

	host_start(&h, "p.stopped");
	assert_unfinished(&h, "acct.stopped", relay_url);
	assert_int_equal(do_register_at(&h, "acct.stopped", relay_url, NULL).rc, 0);
	local_identity(&h, after);
	assert_memory_equal(before, after, WIRE_KEY_LEN);
	host_stop(&h);
}

static void
test_database_whose_creation_was_killed_is_started_again(void **state)
{
	struct host h;
	char *path;
	(void)state;

	/* What a kill inside db_create leaves: the key files and a database
	 * file without a byte (here: a finished one, emptied). */
	host_start(&h, "p.halfmade");
	assert_int_equal(do_register_at(&h, "acct.halfmade", DEAD_RELAY, NULL).e.code, ERR_NETWORK);
	host_stop(&h);
	path = xasprintf("%s/p.halfmade/%s", tmp_root, DB_FILE);
	assert_int_equal(truncate(path, 0), 0);
	free(path);
	path = xasprintf("%s/p.halfmade/%s-wal", tmp_root, DB_FILE);
	unlink(path);
	free(path);

	/* The engine starts as for a new profile, and register works. */
	host_start(&h, "p.halfmade");
	assert_false(engine_is_locked(h.eng));
	assert_null(h.c->db);
	assert_int_equal(file_mode(&h, DB_FILE), -1);
	assert_int_equal(file_mode(&h, KDF_KEY_FILE), -1);
	assert_int_equal(do_register_at(&h, "acct.halfmade", relay_url, NULL).rc, 0);
	host_stop(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pin_accepts_plain_and_colon_fingerprints),
	    cmocka_unit_test(test_concurrent_fetches_for_one_peer_take_one_prekey),
	    cmocka_unit_test(test_register_creates_private_profile_and_uploads_keys),
	    cmocka_unit_test(test_taken_name_is_refused_and_profile_removed),
	    cmocka_unit_test(test_register_refuses_bad_input_up_front),
	    cmocka_unit_test(test_wrong_passphrase_is_refused_and_changes_nothing),
	    cmocka_unit_test(test_status_is_answered_while_an_unlock_derives_its_key),
	    cmocka_unit_test(test_keyfile_profile_opens_and_connects_at_start),
	    cmocka_unit_test(test_prekeys_are_refilled_when_they_run_low),
	    cmocka_unit_test(test_signed_prekey_is_rotated_when_due),
	    cmocka_unit_test(test_fetch_builds_sessions_and_reports_untrusted_identity),
	    cmocka_unit_test(test_contacts_add_asks_the_relay_before_adding),
	    cmocka_unit_test(test_register_without_relay_keeps_keys_and_retry_sends_them),
	    cmocka_unit_test(test_register_answered_but_not_recorded_is_finished_by_authenticating),
	    cmocka_unit_test(test_unfinished_registration_of_a_name_taken_by_another_is_removed),
	    cmocka_unit_test(test_engine_stopping_during_registration_keeps_keys),
	    cmocka_unit_test(test_database_whose_creation_was_killed_is_started_again),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
