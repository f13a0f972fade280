/* Unit tests for relay/rstore: accounts, devices, prekeys, queues, sends,
 * expiry, batches and durability, each in a fresh temporary data directory
 * with a fake clock (blobs are in test_rstore_blob.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/rstore.h"
#include "tests/rstore_fixture.h"

#define DAY_MS (24LL * 3600 * 1000)

static size_t
prekey_count(struct rstore_fixture *f, const char *name, uint32_t dev)
{
	size_t n = 999;
	struct err e;

	assert_int_equal(rstore_prekey_count(f->s, name, dev, &n, &e), 0);
	return n;
}

static void
test_rstore_register_refuses_taken_name(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t key[RSTORE_KEY_LEN], got[RSTORE_KEY_LEN], secret[RSTORE_SECRET_LEN];
	struct rstore_device *devs;
	size_t n;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_key(key, 9);
	rstore_fixture_secret(secret, 9);
	assert_int_equal(rstore_account_register(f->s, "alice", key, 7, secret, NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	/* The original owner is untouched: her key, her secret, one device. */
	assert_int_equal(rstore_account_identity(f->s, "alice", got, &e), 0);
	rstore_fixture_key(key, 1);
	assert_memory_equal(got, key, RSTORE_KEY_LEN);
	assert_int_equal(rstore_device_auth(f->s, "alice", 1, secret, &e), -1);
	rstore_fixture_secret(secret, 1);
	assert_int_equal(rstore_device_auth(f->s, "alice", 1, secret, &e), 0);
	assert_int_equal(rstore_device_list(f->s, "alice", &devs, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].device_id, 1);
	assert_int_equal(devs[0].registration_id, 101);
	free(devs);
}

static void
test_rstore_register_rejects_bad_input(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t key[RSTORE_KEY_LEN], secret[RSTORE_SECRET_LEN];
	char longname[RSTORE_NAME_MAX + 2];
	struct err e;

	rstore_fixture_key(key, 1);
	rstore_fixture_secret(secret, 1);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(rstore_account_register(f->s, longname, key, 1, secret, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_account_register(f->s, "", key, 1, secret, NULL, &e), -1);
	assert_int_equal(rstore_account_register(f->s, "bob", key, 0, secret, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	key[0] = 0x04;
	assert_int_equal(rstore_account_register(f->s, "bob", key, 1, secret, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_account_identity(f->s, "bob", key, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_rstore_auth_checks_secret_and_device(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t secret[RSTORE_SECRET_LEN];
	struct rstore_device *devs;
	size_t n;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_secret(secret, 1);
	f->now += 2 * 3600 * 1000;
	assert_int_equal(rstore_device_auth(f->s, "alice", 1, secret, &e), 0);
	assert_int_equal(rstore_device_list(f->s, "alice", &devs, &n, &e), 0);
	assert_int_equal(devs[0].last_seen_ms, f->now);
	free(devs);
	secret[31] ^= 1;
	assert_int_equal(rstore_device_auth(f->s, "alice", 1, secret, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
	secret[31] ^= 1;
	assert_int_equal(rstore_device_auth(f->s, "alice", 2, secret, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
	assert_int_equal(rstore_device_auth(f->s, "nobody", 1, secret, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
}

static void
test_rstore_devices_are_added_listed_and_removed(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t secret[RSTORE_SECRET_LEN];
	struct rstore_device *devs;
	uint32_t id;
	size_t n;
	struct err e;

	f->opt.max_devices = 3;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	assert_int_equal(rstore_fixture_device(f, "alice", 500, 2), 2);
	assert_int_equal(rstore_fixture_device(f, "alice", 501, 3), 3);
	rstore_fixture_secret(secret, 4);
	assert_int_equal(rstore_device_add(f->s, "alice", 502, secret, NULL, &id, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	rstore_fixture_secret(secret, 3);
	assert_int_equal(rstore_device_auth(f->s, "alice", 3, secret, &e), 0);
	/* Removal takes the device's queue with it. */
	assert_int_equal(rstore_fixture_send(f, "alice", "alice", 3, "sync", NULL, &e), 0);
	assert_int_equal(rstore_device_remove(f->s, "alice", 3, &e), 0);
	assert_int_equal(rstore_queue_count(f->s, "alice", 3, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_device_auth(f->s, "alice", 3, secret, &e), -1);
	assert_int_equal(rstore_device_remove(f->s, "alice", 3, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_device_remove(f->s, "alice", 1, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	/* A removed device's id is not handed out again. */
	assert_int_equal(rstore_fixture_device(f, "alice", 503, 5), 4);
	assert_int_equal(rstore_device_list(f->s, "alice", &devs, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(devs[0].device_id, 1);
	assert_int_equal(devs[1].device_id, 2);
	assert_int_equal(devs[1].registration_id, 500);
	assert_int_equal(devs[2].device_id, 4);
	free(devs);
	assert_int_equal(rstore_device_add(f->s, "nobody", 1, secret, NULL, &id, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
make_spk(struct rstore_signed_prekey *spk, uint32_t id)
{
	spk->key_id = id;
	rstore_fixture_key(spk->pub, 0x33);
	memset(spk->sig, 0x44, sizeof spk->sig);
}

static void
set_signed(struct rstore_fixture *f, const char *name, uint32_t dev)
{
	struct rstore_signed_prekey spk;
	struct err e;

	make_spk(&spk, 7);
	if (rstore_prekey_set_signed(f->s, name, dev, &spk, &e) < 0)
		fail_msg("signed prekey: %s", e.msg);
}

static void
upload_prekeys(struct rstore_fixture *f, const char *name, uint32_t dev, uint32_t first, size_t n)
{
	struct rstore_prekey *k = calloc(n, sizeof *k);
	struct err e;
	size_t i;

	for (i = 0; i < n; i++) {
		k[i].key_id = first + (uint32_t)i;
		rstore_fixture_key(k[i].pub, (int)(first + i));
	}
	if (rstore_prekey_add(f->s, name, dev, k, n, &e) < 0)
		fail_msg("prekeys: %s", e.msg);
	free(k);
}

static void
test_rstore_prekey_take_never_returns_a_key_twice(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_bundle b;
	uint8_t seen[64] = {0}, key[RSTORE_KEY_LEN];
	struct err e;
	int i;

	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_prekey_take(f->s, "bob", 1, &b, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND); /* no signed prekey yet */
	set_signed(f, "bob", 1);
	upload_prekeys(f, "bob", 1, 10, 40);
	assert_int_equal(prekey_count(f, "bob", 1), 40);
	for (i = 0; i < 40; i++) {
		assert_int_equal(rstore_prekey_take(f->s, "bob", 1, &b, &e), 0);
		assert_true(b.has_prekey);
		assert_true(b.prekey_id >= 10 && b.prekey_id < 50);
		assert_false(seen[b.prekey_id]);
		seen[b.prekey_id] = 1;
		rstore_fixture_key(key, (int)b.prekey_id);
		assert_memory_equal(b.prekey, key, RSTORE_KEY_LEN);
		assert_int_equal(b.registration_id, 102);
		assert_int_equal(b.signed_prekey_id, 7);
		assert_int_equal(prekey_count(f, "bob", 1), 39 - (size_t)i);
	}
	/* Out of one-time keys: the bundle still comes, without one. */
	assert_int_equal(rstore_prekey_take(f->s, "bob", 1, &b, &e), 0);
	assert_false(b.has_prekey);
	rstore_fixture_key(key, 2);
	assert_memory_equal(b.identity_key, key, RSTORE_KEY_LEN);
	rstore_fixture_key(key, 0x33);
	assert_memory_equal(b.signed_prekey, key, RSTORE_KEY_LEN);
}

static void
test_rstore_prekey_upload_is_all_or_nothing(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_prekey k[3];
	struct err e;

	rstore_fixture_account(f, "bob", 2);
	upload_prekeys(f, "bob", 1, 1, 5);
	memset(k, 0, sizeof k);
	rstore_fixture_key(k[0].pub, 1), rstore_fixture_key(k[1].pub, 1),
	    rstore_fixture_key(k[2].pub, 1);
	/* An id already stored, after a fresh one: neither is stored. */
	k[0].key_id = 100;
	k[1].key_id = 3;
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 2, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(prekey_count(f, "bob", 1), 5);
	/* An id repeated within the upload. */
	k[1].key_id = 101;
	k[2].key_id = 100;
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 3, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	/* A bad key. */
	k[2].key_id = 102;
	k[2].pub[0] = 0;
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 3, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(prekey_count(f, "bob", 1), 5);
	k[2].pub[0] = 0x05;
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 3, &e), 0);
	assert_int_equal(prekey_count(f, "bob", 1), 8);
	assert_int_equal(rstore_prekey_add(f->s, "bob", 9, k, 3, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_rstore_prekey_store_is_bounded(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_prekey k[3];
	struct err e;

	f->opt.max_prekeys = 4;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "bob", 2);
	upload_prekeys(f, "bob", 1, 1, 2);
	memset(k, 0, sizeof k);
	k[0].key_id = 10, k[1].key_id = 11, k[2].key_id = 12;
	rstore_fixture_key(k[0].pub, 1), rstore_fixture_key(k[1].pub, 1),
	    rstore_fixture_key(k[2].pub, 1);
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 3, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	assert_int_equal(prekey_count(f, "bob", 1), 2);
	assert_int_equal(rstore_prekey_add(f->s, "bob", 1, k, 2, &e), 0);
}

static void
test_rstore_prekey_take_all_covers_devices_with_signed_prekeys(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_bundle *b;
	size_t n;
	struct err e;

	rstore_fixture_account(f, "bob", 2);
	rstore_fixture_device(f, "bob", 300, 3);
	rstore_fixture_device(f, "bob", 301, 4);
	assert_int_equal(rstore_prekey_take_all(f->s, "bob", 0, &b, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(b);
	assert_int_equal(rstore_prekey_take_all(f->s, "nobody", 0, &b, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	set_signed(f, "bob", 1);
	set_signed(f, "bob", 3);
	upload_prekeys(f, "bob", 3, 70, 2);
	/* Bob's device 3 fetching his own account does not get itself. */
	assert_int_equal(rstore_prekey_take_all(f->s, "bob", 3, &b, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].device_id, 1);
	free(b);
	assert_int_equal(prekey_count(f, "bob", 3), 2);
	assert_int_equal(rstore_prekey_take_all(f->s, "bob", 0, &b, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0].device_id, 1);
	assert_false(b[0].has_prekey);
	assert_int_equal(b[1].device_id, 3);
	assert_int_equal(b[1].registration_id, 301);
	assert_true(b[1].has_prekey);
	assert_int_equal(b[1].prekey_id, 70);
	free(b);
	assert_int_equal(prekey_count(f, "bob", 3), 1);
}

static void
test_rstore_signed_prekey_comes_with_register_and_device_add(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t key[RSTORE_KEY_LEN], secret[RSTORE_SECRET_LEN];
	struct rstore_signed_prekey spk;
	struct rstore_bundle b;
	uint32_t id;
	struct err e;

	rstore_fixture_key(key, 2);
	rstore_fixture_secret(secret, 2);
	make_spk(&spk, 9);
	assert_int_equal(rstore_account_register(f->s, "bob", key, 5, secret, &spk, &e), 0);
	assert_int_equal(rstore_prekey_take(f->s, "bob", 1, &b, &e), 0);
	assert_int_equal(b.signed_prekey_id, 9);
	assert_memory_equal(b.signed_prekey_sig, spk.sig, RSTORE_SIG_LEN);
	spk.key_id = 10;
	assert_int_equal(rstore_device_add(f->s, "bob", 6, secret, &spk, &id, &e), 0);
	assert_int_equal(rstore_prekey_take(f->s, "bob", id, &b, &e), 0);
	assert_int_equal(b.signed_prekey_id, 10);
	assert_int_equal(b.registration_id, 6);
	/* A bad signed prekey fails the whole registration or link. */
	spk.pub[0] = 0;
	assert_int_equal(rstore_account_register(f->s, "carol", key, 5, secret, &spk, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_account_identity(f->s, "carol", key, &e), -1);
	assert_int_equal(rstore_device_add(f->s, "bob", 7, secret, &spk, &id, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	spk.pub[0] = 0x05;
	spk.key_id = RSTORE_KEY_ID_MAX + 1;
	assert_int_equal(rstore_prekey_set_signed(f->s, "bob", 1, &spk, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	spk.key_id = 11;
	assert_int_equal(rstore_prekey_set_signed(f->s, "bob", 9, &spk, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	/* Setting it again replaces it. */
	spk.sig[0] = 0x77;
	assert_int_equal(rstore_prekey_set_signed(f->s, "bob", 1, &spk, &e), 0);
	assert_int_equal(rstore_prekey_take(f->s, "bob", 1, &b, &e), 0);
	assert_int_equal(b.signed_prekey_id, 11);
	assert_int_equal(b.signed_prekey_sig[0], 0x77);
}

static void
test_rstore_queue_delivers_in_order_and_acks(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_envelope *env;
	int64_t ids[5], ts;
	size_t n, deleted;
	struct err e;
	int i;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	for (i = 0; i < 5; i++) {
		char text[16];
		snprintf(text, sizeof text, "msg %d", i);
		assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, text, &ids[i], &e), 0);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);
	}
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 5);
	assert_int_equal(rstore_queue_fetch(f->s, "bob", 1, 0, 3, &env, &n, &e), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		char text[16];
		snprintf(text, sizeof text, "msg %d", i);
		assert_int_equal(env[i].id, ids[i]);
		assert_string_equal(env[i].sender, "alice");
		assert_int_equal(env[i].sender_device, 1);
		assert_int_equal(env[i].sender_registration_id, 101);
		assert_int_equal(env[i].type, 1);
		assert_int_equal(env[i].server_ts_ms, f->now);
		assert_int_equal(env[i].content_len, strlen(text));
		assert_memory_equal(env[i].content, text, strlen(text));
	}
	rstore_queue_free(env, n);
	/* The next page starts after the last id seen. */
	assert_int_equal(rstore_queue_fetch(f->s, "bob", 1, ids[2], 10, &env, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(env[0].id, ids[3]);
	rstore_queue_free(env, n);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, ids, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 3);
	assert_int_equal(rstore_queue_fetch(f->s, "bob", 1, 0, 10, &env, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(env[0].id, ids[2]);
	rstore_queue_free(env, n);
	/* Acking again is harmless. */
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, ids, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	/* Ids keep growing even after the newest row is gone. */
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, &ids[4], 1, &deleted, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "later", &ts, &e), 0);
	assert_true(ts > ids[4]);
}

static void
test_rstore_ack_of_another_devices_row_does_nothing(void **state)
{
	struct rstore_fixture *f = *state;
	int64_t id_bob, id_carol;
	size_t deleted;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_fixture_account(f, "carol", 3);
	rstore_fixture_device(f, "bob", 200, 4);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "for bob 1", &id_bob, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "carol", 1, "for carol", &id_carol, &e),
	                 0);
	/* Bob's second device and Carol each try to ack Bob's device 1 row. */
	assert_int_equal(rstore_queue_delete(f->s, "bob", 2, &id_bob, 1, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(rstore_queue_delete(f->s, "carol", 1, &id_bob, 1, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, &id_carol, 1, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(rstore_fixture_queue_count(f, "carol", 1), 1);
}

static void
test_rstore_send_record_makes_retries_idempotent(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t *res;
	size_t len;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_device(f, "alice", 150, 5);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "m-1", &res, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "m-1", "ts=42", 5, &e), 0);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "m-1", &res, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(res, "ts=42", 5);
	free(res);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "m-1", "ts=43", 5, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	/* The same client id from another device is another message. */
	assert_int_equal(rstore_send_lookup(f->s, "alice", 2, "m-1", &res, &len, &e), -1);
	assert_int_equal(rstore_send_record(f->s, "alice", 2, "m-1", "", 0, &e), 0);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 2, "m-1", &res, &len, &e), 0);
	assert_int_equal(len, 0);
	free(res);
	assert_int_equal(rstore_send_record(f->s, "alice", 9, "m-1", "x", 1, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "", "x", 1, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_rstore_queue_limit_refuses_whole_send(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_outgoing m[2] = {
	    {1, 1, (const uint8_t *)"a", 1},
	    {2, 1, (const uint8_t *)"b", 1},
	};
	struct err e;
	int i;

	f->opt.max_queue = 3;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_fixture_device(f, "bob", 200, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "x", NULL, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "x", NULL, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	/* Device 1 is full: device 2 gets nothing either. */
	assert_int_equal(rstore_queue_send(f->s, "alice", 1, "bob", m, 2, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 2), 0);
	/* Unknown device, duplicate device, oversized content. */
	m[1].device_id = 7;
	assert_int_equal(rstore_queue_send(f->s, "alice", 1, "bob", &m[1], 1, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	m[1].device_id = 2;
	m[0].device_id = 2;
	assert_int_equal(rstore_queue_send(f->s, "alice", 1, "bob", m, 2, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	f->opt.max_content = 4;
	rstore_fixture_reopen(f);
	m[0].content = (const uint8_t *)"12345";
	m[0].content_len = 5;
	assert_int_equal(rstore_queue_send(f->s, "alice", 1, "bob", m, 1, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 2), 0);
}

static void
test_rstore_queue_depth_follows_acks_rollbacks_and_expiry(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_expired x;
	int64_t ids[3];
	size_t deleted;
	struct err e;
	int i;

	f->opt.max_queue = 3;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_fixture_device(f, "bob", 200, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "x", &ids[i], &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 2, "y", NULL, &e), 0);
	/* Acks in a batch that rolls back free nothing. */
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, ids, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	rstore_batch_rollback(f->s);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 3);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "x", NULL, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	/* Committed acks do; ids of another device or acked twice count once. */
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, ids, 2, &deleted, &e), 0);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 2, ids, 3, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, ids, 2, &deleted, &e), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "x", NULL, &e), 0);
	/* Counted again from the table at open. */
	rstore_fixture_reopen(f);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 2);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 2), 1);
	/* Removing a device takes its queue along. */
	assert_int_equal(rstore_device_remove(f->s, "bob", 2, &e), 0);
	assert_int_equal(rstore_queue_count(f->s, "bob", 2, &deleted, &e), -1);
	f->now += 31 * DAY_MS;
	assert_int_equal(rstore_expire(f->s, &x, &e), 0);
	assert_int_equal(x.envelopes, 2);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 0);
}

static void
test_rstore_send_multi_is_all_or_nothing_across_accounts(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_outgoing mb = {1, 3, (const uint8_t *)"to bob", 6};
	struct rstore_outgoing mc[2] = {
	    {1, 3, (const uint8_t *)"to carol 1", 10},
	    {2, 3, (const uint8_t *)"to carol 2", 10},
	};
	int64_t idb, idc[2], ts = 0;
	struct rstore_recipient to[2] = {{"bob", &mb, 1, &idb}, {"carol", mc, 2, idc}};
	struct err e;

	f->opt.max_queue = 2;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_fixture_account(f, "carol", 3);
	rstore_fixture_device(f, "carol", 300, 4);
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 1, to, 2, &ts, &e), 0);
	assert_int_equal(ts, f->now);
	assert_true(idc[0] > idb && idc[1] > idc[0]);
	assert_int_equal(rstore_fixture_queue_count(f, "carol", 2), 1);
	/* Carol's device 2 fills up: the next group send queues nothing for Bob. */
	assert_int_equal(rstore_fixture_send(f, "alice", "carol", 2, "x", NULL, &e), 0);
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 1, to, 2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	/* An unknown account is named; an account twice is refused. */
	to[1].account = "dave";
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 1, to, 2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "dave"));
	to[1].account = "bob";
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 1, to, 2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 1, to, 0, NULL, &e), -1);
	assert_int_equal(rstore_queue_send_multi(f->s, "alice", 7, to, 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_rstore_expire_drops_old_envelopes_and_send_records(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_envelope *env;
	struct rstore_expired x;
	uint8_t *res;
	size_t n, len;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "old", NULL, &e), 0);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "old", "r", 1, &e), 0);
	f->now += 29 * DAY_MS;
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "new", NULL, &e), 0);
	assert_int_equal(rstore_expire(f->s, &x, &e), 0);
	assert_int_equal(x.envelopes, 0);
	assert_int_equal(x.sends, 1); /* past the 7-day idempotency window */
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "old", &res, &len, &e), -1);
	f->now += 1 * DAY_MS + 1;
	/* Past its TTL an envelope is no longer delivered, even before the sweep. */
	assert_int_equal(rstore_queue_fetch(f->s, "bob", 1, 0, 10, &env, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(env[0].content, "new", 3);
	rstore_queue_free(env, n);
	assert_int_equal(rstore_expire(f->s, &x, &e), 0);
	assert_int_equal(x.envelopes, 1);
	assert_int_equal(x.more, 0);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
}

static void
test_rstore_device_check_reports_missing_extra_and_stale(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore_target t[3] = {{1, 102}, {3, 999}, {5, 1}};
	struct rstore_mismatch m;
	struct err e;

	rstore_fixture_account(f, "bob", 2);     /* device 1, reg 102 */
	rstore_fixture_device(f, "bob", 200, 3); /* device 2 */
	rstore_fixture_device(f, "bob", 300, 4); /* device 3 */
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 3, &m, &e), 0);
	assert_false(rstore_device_mismatch_empty(&m));
	assert_int_equal(m.n_missing, 1);
	assert_int_equal(m.missing[0], 2);
	assert_int_equal(m.n_extra, 1);
	assert_int_equal(m.extra[0], 5);
	assert_int_equal(m.n_stale, 1);
	assert_int_equal(m.stale[0], 3);
	rstore_device_mismatch_free(&m);
	/* The right list matches; the sender's own device is left out. */
	t[1].device_id = 2, t[1].registration_id = 200;
	t[2].device_id = 3, t[2].registration_id = 300;
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 3, &m, &e), 0);
	assert_true(rstore_device_mismatch_empty(&m));
	rstore_device_mismatch_free(&m);
	assert_int_equal(rstore_device_check(f->s, "bob", 1, &t[1], 2, &m, &e), 0);
	assert_true(rstore_device_mismatch_empty(&m));
	rstore_device_mismatch_free(&m);
	assert_int_equal(rstore_device_check(f->s, "bob", 1, t, 3, &m, &e), 0);
	assert_int_equal(m.n_extra, 1);
	assert_int_equal(m.extra[0], 1);
	rstore_device_mismatch_free(&m);
	t[1].device_id = 1;
	assert_int_equal(rstore_device_check(f->s, "bob", 0, t, 2, &m, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(rstore_device_check(f->s, "nobody", 0, t, 1, &m, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
}

static void
test_rstore_rolled_back_batch_leaves_nothing(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t key[RSTORE_KEY_LEN], id[RSTORE_BLOB_ID_LEN];
	struct err e;
	size_t deleted;
	int64_t qid;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "kept", &qid, &e), 0);
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_true(rstore_batch_is_open(f->s));
	rstore_fixture_account(f, "carol", 3);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "dropped", NULL, &e), 0);
	assert_int_equal(rstore_queue_delete(f->s, "bob", 1, &qid, 1, &deleted, &e), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "c1", "r", 1, &e), 0);
	assert_int_equal(rstore_fixture_put_blob(f, "alice", (const uint8_t *)"xyz", 3, 3, id, &e),
	                 0);
	assert_int_equal(rstore_fixture_blob_files(f), 1);
	rstore_batch_rollback(f->s);
	assert_false(rstore_batch_is_open(f->s));
	assert_int_equal(rstore_account_identity(f->s, "carol", key, &e), -1);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
	assert_int_equal(rstore_fixture_blob_files(f), 0);
	assert_int_equal(rstore_batch_commit(f->s, &e), 0); /* nothing open: no-op */
}

static void
test_rstore_rolled_back_send_record_is_forgotten(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t *res;
	size_t len;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "gone", "r1", 2, &e), 0);
	rstore_batch_rollback(f->s);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "gone", &res, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	/* The next record takes the rolled-back row's place: the lookup of
	 * the old id must not find the new record. */
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "next", "r2", 2, &e), 0);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "gone", &res, &len, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_send_lookup(f->s, "alice", 1, "next", &res, &len, &e), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(res, "r2", 2);
	free(res);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "gone", "r3", 2, &e), 0);
}

static void
test_rstore_send_records_survive_reopen(void **state)
{
	struct rstore_fixture *f = *state;
	char id[32];
	uint8_t *res;
	size_t len;
	struct err e;
	int i;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	/* Enough records that the index in memory grows more than once. */
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "m-%d", i);
		assert_int_equal(
		    rstore_send_record(f->s, i % 2 ? "bob" : "alice", 1, id, id, strlen(id), &e),
		    0);
	}
	assert_int_equal(rstore_batch_commit(f->s, &e), 0);
	rstore_fixture_reopen(f);
	for (i = 0; i < 3000; i += 7) {
		snprintf(id, sizeof id, "m-%d", i);
		assert_int_equal(
		    rstore_send_lookup(f->s, i % 2 ? "bob" : "alice", 1, id, &res, &len, &e), 0);
		assert_int_equal(len, strlen(id));
		assert_memory_equal(res, id, len);
		free(res);
		/* The same client id from the other account is another message. */
		assert_int_equal(
		    rstore_send_lookup(f->s, i % 2 ? "alice" : "bob", 1, id, &res, &len, &e), -1);
		assert_int_equal(e.code, ERR_NOTFOUND);
	}
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "m-0", "x", 1, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
}

static void
test_rstore_account_of_a_rolled_back_batch_is_not_remembered(void **state)
{
	struct rstore_fixture *f = *state;
	size_t n;
	struct err e;

	rstore_fixture_account(f, "alice", 1);
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	rstore_fixture_account(f, "carol", 3);
	assert_int_equal(rstore_queue_count(f->s, "carol", 1, &n, &e), 0);
	rstore_batch_rollback(f->s);
	/* dave gets the row id carol had for a moment: carol must not
	 * resolve to it. */
	rstore_fixture_account(f, "dave", 4);
	assert_int_equal(rstore_queue_count(f->s, "carol", 1, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(rstore_queue_count(f->s, "dave", 1, &n, &e), 0);
	assert_int_equal(n, 0);
}

static void
test_rstore_failed_call_keeps_the_rest_of_its_batch(void **state)
{
	struct rstore_fixture *f = *state;
	struct err e;

	f->opt.max_queue = 1;
	rstore_fixture_reopen(f);
	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	assert_int_equal(rstore_batch_begin(f->s, &e), 0);
	assert_int_equal(rstore_batch_begin(f->s, &e), 0); /* already open: joins */
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "one", NULL, &e), 0);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "two", NULL, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT);
	assert_int_equal(rstore_send_record(f->s, "alice", 1, "one", "r", 1, &e), 0);
	assert_int_equal(rstore_batch_commit(f->s, &e), 0);
	rstore_fixture_reopen(f);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 1);
}

static void
test_rstore_data_survives_close_and_reopen(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t secret[RSTORE_SECRET_LEN], id[RSTORE_BLOB_ID_LEN];
	struct rstore_envelope *env;
	struct stat sb;
	char path[400];
	uint64_t size;
	size_t n;
	struct err e;
	int fd;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	upload_prekeys(f, "bob", 1, 1, 3);
	assert_int_equal(rstore_fixture_send(f, "alice", "bob", 1, "persist", NULL, &e), 0);
	assert_int_equal(rstore_fixture_put_blob(f, "alice", (const uint8_t *)"blob", 4, 4, id, &e),
	                 0);
	rstore_fixture_reopen(f);
	rstore_fixture_secret(secret, 2);
	assert_int_equal(rstore_device_auth(f->s, "bob", 1, secret, &e), 0);
	assert_int_equal(prekey_count(f, "bob", 1), 3);
	assert_int_equal(rstore_queue_fetch(f->s, "bob", 1, 0, 10, &env, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(env[0].content, "persist", 7);
	rstore_queue_free(env, n);
	assert_int_equal(rstore_blob_open(f->s, id, &fd, &size, &e), 0);
	close(fd);
	/* Private files: the directory 0700, the database 0600. */
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof path, "%s/relay.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void
test_rstore_committed_batch_survives_kill(void **state)
{
	struct rstore_fixture *f = *state;
	uint8_t key[RSTORE_KEY_LEN];
	struct err e;
	pid_t pid;
	int status;

	rstore_fixture_account(f, "alice", 1);
	rstore_fixture_account(f, "bob", 2);
	rstore_close(f->s);
	f->s = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rstore *s;
		struct rstore_outgoing m = {1, 1, (const uint8_t *)"durable", 7};
		struct rstore_blob_writer *w;
		uint8_t id[RSTORE_BLOB_ID_LEN];
		int i;

		if (rstore_open(&s, f->dir, &f->opt, NULL) < 0)
			_exit(2);
		if (rstore_batch_begin(s, NULL) < 0)
			_exit(3);
		for (i = 0; i < 10; i++)
			if (rstore_queue_send(s, "alice", 1, "bob", &m, 1, NULL, NULL, NULL) < 0)
				_exit(4);
		if (rstore_batch_commit(s, NULL) < 0)
			_exit(5);
		/* A second batch that never commits: a new account and a blob. */
		rstore_batch_begin(s, NULL);
		rstore_fixture_key(key, 5);
		rstore_account_register(s, "ghost", key, 5, key, NULL, NULL);
		if (rstore_blob_begin(s, "alice", 3, &w, NULL) == 0 &&
		    rstore_blob_write(w, "abc", 3, NULL) == 0)
			rstore_blob_finish(w, id, NULL);
		raise(SIGKILL);
		_exit(6);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(rstore_open(&f->s, f->dir, &f->opt, &e), 0);
	assert_int_equal(rstore_fixture_queue_count(f, "bob", 1), 10);
	assert_int_equal(rstore_account_identity(f->s, "ghost", key, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	/* The uncommitted blob's file was swept at open. */
	assert_int_equal(rstore_fixture_blob_files(f), 0);
}

static void
test_rstore_second_open_of_a_directory_is_refused(void **state)
{
	struct rstore_fixture *f = *state;
	struct rstore *s2;
	struct err e;

	assert_int_equal(rstore_open(&s2, f->dir, &f->opt, &e), -1);
	assert_int_equal(e.code, ERR_BUSY);
	assert_null(s2);
}

static void
test_rstore_refuses_a_newer_schema(void **state)
{
	struct rstore_fixture *f = *state;
	char path[400];
	sqlite3 *db;
	struct err e;

	rstore_close(f->s);
	f->s = NULL;
	snprintf(path, sizeof path, "%s/relay.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rstore_open(&f->s, f->dir, &f->opt, &e), -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	assert_null(f->s);
}

static void
test_rstore_in_memory_mode_works_without_files(void **state)
{
	struct rstore_options opt;
	struct rstore *s;
	struct rstore_blob_writer *w;
	uint8_t key[RSTORE_KEY_LEN];
	struct rstore_outgoing m = {1, 1, (const uint8_t *)"x", 1};
	size_t n;
	struct err e;

	(void)state;
	rstore_options_default(&opt);
	opt.in_memory = 1;
	assert_int_equal(rstore_open(&s, NULL, &opt, &e), 0);
	rstore_fixture_key(key, 1);
	assert_int_equal(rstore_account_register(s, "a", key, 1, key, NULL, &e), 0);
	assert_int_equal(rstore_batch_begin(s, &e), 0);
	assert_int_equal(rstore_queue_send(s, "a", 1, "a", &m, 1, NULL, NULL, &e), 0);
	assert_int_equal(rstore_batch_commit(s, &e), 0);
	assert_int_equal(rstore_queue_count(s, "a", 1, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rstore_blob_begin(s, "a", 1, &w, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	rstore_close(s);
	opt.in_memory = 0;
	assert_int_equal(rstore_open(&s, NULL, &opt, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

#define T(name) cmocka_unit_test_setup_teardown(name, rstore_fixture_setup, rstore_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rstore_register_refuses_taken_name),
	    T(test_rstore_register_rejects_bad_input),
	    T(test_rstore_auth_checks_secret_and_device),
	    T(test_rstore_devices_are_added_listed_and_removed),
	    T(test_rstore_prekey_take_never_returns_a_key_twice),
	    T(test_rstore_prekey_upload_is_all_or_nothing),
	    T(test_rstore_prekey_store_is_bounded),
	    T(test_rstore_prekey_take_all_covers_devices_with_signed_prekeys),
	    T(test_rstore_signed_prekey_comes_with_register_and_device_add),
	    T(test_rstore_queue_delivers_in_order_and_acks),
	    T(test_rstore_ack_of_another_devices_row_does_nothing),
	    T(test_rstore_send_record_makes_retries_idempotent),
	    T(test_rstore_queue_limit_refuses_whole_send),
	    T(test_rstore_queue_depth_follows_acks_rollbacks_and_expiry),
	    T(test_rstore_send_multi_is_all_or_nothing_across_accounts),
	    T(test_rstore_expire_drops_old_envelopes_and_send_records),
	    T(test_rstore_device_check_reports_missing_extra_and_stale),
	    T(test_rstore_rolled_back_batch_leaves_nothing),
	    T(test_rstore_rolled_back_send_record_is_forgotten),
	    T(test_rstore_send_records_survive_reopen),
	    T(test_rstore_account_of_a_rolled_back_batch_is_not_remembered),
	    T(test_rstore_failed_call_keeps_the_rest_of_its_batch),
	    T(test_rstore_data_survives_close_and_reopen),
	    T(test_rstore_committed_batch_survives_kill),
	    T(test_rstore_second_open_of_a_directory_is_refused),
	    T(test_rstore_refuses_a_newer_schema),
	    cmocka_unit_test(test_rstore_in_memory_mode_works_without_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
