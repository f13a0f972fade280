/* Tests for store/sigstore: the return-code contract of every libsignal
 * store callback, argument copying, SQL failures, persistence across
 * reopen, and a real libsignal session (prekey message, reply, restart)
 * whose decrypt is rolled back and then committed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <key_helper.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cprov.h"
#include "store/conversations.h"
#include "store/db.h"
#include "store/history.h"
#include "store/idstore.h"
#include "store/sigstore.h"
#include "tests/store_fixture.h"

static const signal_protocol_address BOB1 = {"bob", 3, 1};
static const signal_protocol_address BOB2 = {"bob", 3, 2};

static void
store_session(struct sigstore_callbacks *cb, const signal_protocol_address *a, const char *rec,
              const char *user)
{
	assert_int_equal(
	    cb->session.store_session_func(a, (uint8_t *)rec, strlen(rec), (uint8_t *)user,
	                                   user != NULL ? strlen(user) : 0, cb->session.user_data),
	    0);
}

static void
test_sigstore_load_session_is_1_with_record_or_0_with_nothing(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_buffer *rec = NULL, *user = NULL;

	sigstore_callbacks_init(&cb, f->db);
	assert_int_equal(cb.session.load_session_func(&rec, &user, &BOB1, cb.session.user_data), 0);
	assert_null(rec);
	assert_null(user);
	store_session(&cb, &BOB1, "record-1", NULL);
	assert_int_equal(cb.session.load_session_func(&rec, &user, &BOB1, cb.session.user_data), 1);
	assert_non_null(rec);
	assert_int_equal(signal_buffer_len(rec), 8);
	assert_memory_equal(signal_buffer_data(rec), "record-1", 8);
	assert_null(user); /* none stored, none handed back */
	signal_buffer_free(rec);
	rec = NULL;
	store_session(&cb, &BOB1, "record-2", "extra");
	assert_int_equal(cb.session.load_session_func(&rec, &user, &BOB1, cb.session.user_data), 1);
	assert_memory_equal(signal_buffer_data(rec), "record-2", 8);
	assert_non_null(user);
	assert_memory_equal(signal_buffer_data(user), "extra", 5);
	signal_buffer_free(rec);
	signal_buffer_free(user);
}

static void
test_sigstore_contains_session_is_exact(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_protocol_address ivan1 = {"ivan", 4, 1}, ivan2 = {"ivan", 4, 2};
	/* "ivanka" cut to four bytes is ivan: names are (pointer, length). */
	signal_protocol_address cut1 = {"ivanka", 4, 1}, ivanka1 = {"ivanka", 6, 1};
	void *ud;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.session.user_data;
	store_session(&cb, &ivanka1, "ivanka's", NULL);
	assert_int_equal(cb.session.contains_session_func(&ivanka1, ud), 1);
	assert_int_equal(cb.session.contains_session_func(&ivan1, ud), 0);
	assert_int_equal(cb.session.contains_session_func(&cut1, ud), 0);
	store_session(&cb, &ivan2, "ivan device 2", NULL);
	assert_int_equal(cb.session.contains_session_func(&ivan2, ud), 1);
	assert_int_equal(cb.session.contains_session_func(&ivan1, ud), 0);
	store_session(&cb, &cut1, "ivan device 1", NULL);
	assert_int_equal(cb.session.contains_session_func(&ivan1, ud), 1);
	assert_int_equal(cb.session.delete_session_func(&ivan1, ud), 1);
	assert_int_equal(cb.session.contains_session_func(&cut1, ud), 0);
	assert_int_equal(cb.session.contains_session_func(&ivanka1, ud), 1);
	assert_int_equal(cb.session.contains_session_func(&ivan2, ud), 1);
}

static void
test_sigstore_sub_device_list_is_allocated_even_when_empty(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_int_list *list = NULL;
	void *ud;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.session.user_data;
	assert_int_equal(cb.session.get_sub_device_sessions_func(&list, "nobody", 6, ud), 0);
	assert_non_null(list);
	assert_int_equal(signal_int_list_size(list), 0);
	signal_int_list_free(list);

	store_session(&cb, &(signal_protocol_address){"carol", 5, 3}, "c3", NULL);
	store_session(&cb, &(signal_protocol_address){"carol", 5, 1}, "c1", NULL);
	store_session(&cb, &(signal_protocol_address){"carolyn", 7, 2}, "cy2", NULL);
	list = NULL;
	assert_int_equal(cb.session.get_sub_device_sessions_func(&list, "carolyn", 5, ud), 2);
	assert_int_equal(signal_int_list_size(list), 2);
	assert_int_equal(signal_int_list_at(list, 0), 1);
	assert_int_equal(signal_int_list_at(list, 1), 3);
	signal_int_list_free(list);
}

static void
test_sigstore_delete_functions_report_what_they_deleted(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_protocol_address d1 = {"dora", 4, 1}, d2 = {"dora", 4, 2};
	void *ud;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.session.user_data;
	store_session(&cb, &d1, "d1", NULL);
	store_session(&cb, &d2, "d2", NULL);
	assert_int_equal(cb.session.delete_session_func(&d1, ud), 1);
	assert_int_equal(cb.session.delete_session_func(&d1, ud), 0);
	store_session(&cb, &d1, "d1", NULL);
	assert_int_equal(cb.session.delete_all_sessions_func("dora", 4, ud), 2);
	assert_int_equal(cb.session.delete_all_sessions_func("dora", 4, ud), 0);
	assert_int_equal(cb.session.contains_session_func(&d2, ud), 0);
}

static void
test_sigstore_stored_arguments_are_copied(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_buffer *rec = NULL, *user = NULL;
	char name[] = "erin";
	uint8_t bytes[] = "original";
	signal_protocol_address a = {name, 4, 1};

	sigstore_callbacks_init(&cb, f->db);
	assert_int_equal(cb.session.store_session_func(&a, bytes, 8, NULL, 0, cb.session.user_data),
	                 0);
	assert_int_equal(cb.pre_key.store_pre_key(77, bytes, 8, cb.pre_key.user_data), 0);
	memset(bytes, 'X', 8);
	memcpy(name, "zzzz", 4);
	a.name = "erin";
	assert_int_equal(cb.session.load_session_func(&rec, &user, &a, cb.session.user_data), 1);
	assert_memory_equal(signal_buffer_data(rec), "original", 8);
	signal_buffer_free(rec);
	assert_int_equal(cb.pre_key.load_pre_key(&rec, 77, cb.pre_key.user_data), SG_SUCCESS);
	assert_memory_equal(signal_buffer_data(rec), "original", 8);
	signal_buffer_free(rec);
}

static void
test_sigstore_prekey_contract(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_buffer *rec = NULL;
	int64_t count;
	void *ud;
	struct err e;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.pre_key.user_data;
	assert_int_equal(cb.pre_key.load_pre_key(&rec, 5, ud), SG_ERR_INVALID_KEY_ID);
	assert_null(rec);
	assert_int_equal(cb.pre_key.contains_pre_key(5, ud), 0);
	assert_int_equal(cb.pre_key.store_pre_key(5, (uint8_t *)"pk5", 3, ud), 0);
	assert_int_equal(cb.pre_key.store_pre_key(0xFFFFFE, (uint8_t *)"pkmax", 5, ud), 0);
	assert_int_equal(cb.pre_key.contains_pre_key(5, ud), 1);
	assert_int_equal(sigstore_prekey_count(f->db, &count, &e), 0);
	assert_true(count >= 2);
	assert_int_equal(cb.pre_key.load_pre_key(&rec, 0xFFFFFE, ud), SG_SUCCESS);
	assert_memory_equal(signal_buffer_data(rec), "pkmax", 5);
	signal_buffer_free(rec);
	/* Removing twice: the second is a success too. */
	assert_int_equal(cb.pre_key.remove_pre_key(5, ud), 0);
	assert_int_equal(cb.pre_key.remove_pre_key(5, ud), 0);
	assert_int_equal(cb.pre_key.contains_pre_key(5, ud), 0);
	rec = NULL;
	assert_int_equal(cb.pre_key.load_pre_key(&rec, 5, ud), SG_ERR_INVALID_KEY_ID);
	assert_null(rec);
}

static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

static void
test_sigstore_signed_prekey_contract_and_rotation_list(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	struct sigstore_signed_prekey *list;
	signal_buffer *rec = NULL;
	int64_t now = 1000;
	size_t n;
	void *ud;
	struct err e;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.signed_pre_key.user_data;
	db_set_clock(f->db, fake_clock, &now);
	assert_int_equal(cb.signed_pre_key.load_signed_pre_key(&rec, 1, ud), SG_ERR_INVALID_KEY_ID);
	assert_null(rec);
	assert_int_equal(cb.signed_pre_key.store_signed_pre_key(1, (uint8_t *)"spk1", 4, ud), 0);
	now = 2000;
	assert_int_equal(cb.signed_pre_key.store_signed_pre_key(2, (uint8_t *)"spk2", 4, ud), 0);
	now = 3000;
	/* Storing id 1 again does not make it look new. */
	assert_int_equal(cb.signed_pre_key.store_signed_pre_key(1, (uint8_t *)"spk1b", 5, ud), 0);
	assert_int_equal(cb.signed_pre_key.contains_signed_pre_key(1, ud), 1);
	assert_int_equal(cb.signed_pre_key.load_signed_pre_key(&rec, 1, ud), SG_SUCCESS);
	assert_memory_equal(signal_buffer_data(rec), "spk1b", 5);
	signal_buffer_free(rec);
	assert_int_equal(sigstore_signed_prekeys_list(f->db, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[0].created_at, 1000);
	assert_int_equal(list[1].id, 2);
	assert_int_equal(list[1].created_at, 2000);
	free(list);
	assert_int_equal(cb.signed_pre_key.remove_signed_pre_key(1, ud), 0);
	assert_int_equal(cb.signed_pre_key.remove_signed_pre_key(1, ud), 0);
	assert_int_equal(cb.signed_pre_key.contains_signed_pre_key(1, ud), 0);
	db_set_clock(f->db, NULL, NULL);
}

static void
test_sigstore_identity_key_pair_sets_both_buffers(void **state)
{
	struct fixture *f = fixture_open();
	struct sigstore_callbacks cb;
	signal_buffer *pub = NULL, *priv = NULL;
	uint32_t regid = 0;
	void *ud;
	struct err e;
	int rc;

	(void)state;
	sigstore_callbacks_init(&cb, f->db);
	ud = cb.identity.user_data;
	/* No identity yet: an error of ours, and nothing handed over. */
	rc = cb.identity.get_identity_key_pair(&pub, &priv, ud);
	assert_int_equal(rc, SIGSTORE_ERR_NO_IDENTITY);
	assert_true(rc < SG_ERR_MINIMUM);
	assert_null(pub);
	assert_null(priv);
	assert_true(cb.identity.get_local_registration_id(ud, &regid) < SG_ERR_MINIMUM);
	assert_int_equal(idstore_set_local(f->db, "PUB", 3, "PRIVATE", 7, 4242, &e), 0);
	assert_int_equal(cb.identity.get_identity_key_pair(&pub, &priv, ud), 0);
	assert_non_null(pub);
	assert_non_null(priv);
	assert_memory_equal(signal_buffer_data(pub), "PUB", 3);
	assert_memory_equal(signal_buffer_data(priv), "PRIVATE", 7);
	signal_buffer_free(pub);
	signal_buffer_bzero_free(priv);
	assert_int_equal(cb.identity.get_local_registration_id(ud, &regid), 0);
	assert_int_equal(regid, 4242);
	fixture_free(f);
}

static void
test_sigstore_sender_key_store_load_delete(void **state)
{
	struct fixture *f = *state;
	struct sigstore_callbacks cb;
	signal_protocol_sender_key_name name = {"group-1", 7, {"frank", 5, 2}};
	signal_protocol_sender_key_name other = {"group-1", 7, {"frank", 5, 3}};
	signal_buffer *rec = NULL, *user = NULL;
	void *ud;
	struct err e;

	sigstore_callbacks_init(&cb, f->db);
	ud = cb.sender_key.user_data;
	assert_int_equal(cb.sender_key.load_sender_key(&rec, &user, &name, ud), 0);
	assert_null(rec);
	assert_int_equal(cb.sender_key.store_sender_key(&name, (uint8_t *)"sk", 2, NULL, 0, ud), 0);
	assert_int_equal(cb.sender_key.load_sender_key(&rec, &user, &other, ud), 0);
	assert_int_equal(cb.sender_key.load_sender_key(&rec, &user, &name, ud), 1);
	assert_memory_equal(signal_buffer_data(rec), "sk", 2);
	assert_null(user);
	signal_buffer_free(rec);
	rec = NULL;
	assert_int_equal(sigstore_sender_key_delete(f->db, "group-1", "frank", 2, &e), 0);
	assert_int_equal(sigstore_sender_key_delete(f->db, "group-1", "frank", 2, &e), 0);
	assert_int_equal(cb.sender_key.load_sender_key(&rec, &user, &name, ud), 0);
	assert_null(rec);
}

static void
test_sigstore_sql_failure_is_our_error_code_not_a_crash(void **state)
{
	struct fixture *f = fixture_open();
	struct sigstore_callbacks cb;
	signal_buffer *rec = NULL, *user = NULL;
	signal_int_list *list = NULL;
	struct err e;
	int rc;

	(void)state;
	sigstore_callbacks_init(&cb, f->db);
	store_session(&cb, &BOB1, "r", NULL);
	assert_int_equal(db_exec(f->db, "DROP TABLE sessions; DROP TABLE prekeys", &e), 0);
	rc = cb.session.load_session_func(&rec, &user, &BOB1, cb.session.user_data);
	assert_true(rc < SG_ERR_MINIMUM);
	assert_int_equal(sigstore_err_code(rc), ERR_INTERNAL);
	assert_null(rec);
	assert_true(cb.session.contains_session_func(&BOB1, cb.session.user_data) < SG_ERR_MINIMUM);
	assert_true(cb.session.get_sub_device_sessions_func(&list, "bob", 3, cb.session.user_data) <
	            0);
	assert_null(list);
	assert_true(cb.pre_key.load_pre_key(&rec, 1, cb.pre_key.user_data) < SG_ERR_MINIMUM);
	assert_true(cb.pre_key.remove_pre_key(1, cb.pre_key.user_data) < SG_ERR_MINIMUM);
	assert_int_equal(sigstore_err_code(SIGSTORE_ERR_NOSPACE), ERR_NOSPACE);
	e.code = ERR_NOSPACE;
	assert_int_equal(sigstore_sg_code(&e), SIGSTORE_ERR_NOSPACE);
	e.code = ERR_DUPLICATE;
	assert_int_equal(sigstore_sg_code(&e), SIGSTORE_ERR_DUPLICATE);
	assert_int_equal(sigstore_err_code(SIGSTORE_ERR_DUPLICATE), ERR_DUPLICATE);
	assert_int_equal(sigstore_err_code(SG_ERR_DUPLICATE_MESSAGE), ERR_DUPLICATE);
	fixture_free(f);
}

static void
test_sigstore_records_survive_close_and_reopen(void **state)
{
	struct fixture *f = fixture_open();
	struct sigstore_callbacks cb;
	signal_buffer *rec = NULL, *user = NULL;
	signal_protocol_sender_key_name sk = {"g", 1, {"bob", 3, 1}};
	struct err e;

	(void)state;
	sigstore_callbacks_init(&cb, f->db);
	store_session(&cb, &BOB2, "persisted session", NULL);
	assert_int_equal(cb.pre_key.store_pre_key(9, (uint8_t *)"pk9", 3, cb.pre_key.user_data), 0);
	assert_int_equal(cb.signed_pre_key.store_signed_pre_key(4, (uint8_t *)"spk4", 4,
	                                                        cb.signed_pre_key.user_data),
	                 0);
	assert_int_equal(cb.sender_key.store_sender_key(&sk, (uint8_t *)"skr", 3, NULL, 0,
	                                                cb.sender_key.user_data),
	                 0);
	assert_int_equal(
	    cb.identity.save_identity(&BOB2, (uint8_t *)"bob-key", 7, cb.identity.user_data), 0);
	assert_int_equal(idstore_set_local(f->db, "P", 1, "S", 1, 7, &e), 0);
	fixture_reopen(f);
	sigstore_callbacks_init(&cb, f->db);
	assert_int_equal(cb.session.load_session_func(&rec, &user, &BOB2, cb.session.user_data), 1);
	assert_memory_equal(signal_buffer_data(rec), "persisted session", 17);
	signal_buffer_free(rec);
	assert_int_equal(cb.pre_key.contains_pre_key(9, cb.pre_key.user_data), 1);
	assert_int_equal(cb.signed_pre_key.contains_signed_pre_key(4, cb.signed_pre_key.user_data),
	                 1);
	assert_int_equal(cb.sender_key.load_sender_key(&rec, &user, &sk, cb.sender_key.user_data),
	                 1);
	signal_buffer_free(rec);
	assert_int_equal(
	    cb.identity.is_trusted_identity(&BOB2, (uint8_t *)"bob-key", 7, cb.identity.user_data),
	    1);
	fixture_free(f);
}

/* --- a real libsignal session over two profile databases --------------- */

struct party {
	struct fixture *f;
	signal_protocol_store_context *store;
	ratchet_identity_key_pair *identity;
	uint32_t regid;
	signal_protocol_address addr;
};

static void
party_open_store(struct party *p, signal_context *gctx)
{
	struct err e;

	if (sigstore_create(p->f->db, gctx, &p->store, &e) != 0)
		fail_msg("%s", e.msg);
}

static void
party_new(struct party *p, const char *name, signal_context *gctx)
{
	signal_buffer *pub, *priv;
	struct err e;

	memset(p, 0, sizeof *p);
	p->f = fixture_open();
	p->addr.name = name;
	p->addr.name_len = strlen(name);
	p->addr.device_id = 1;
	assert_int_equal(signal_protocol_key_helper_generate_identity_key_pair(&p->identity, gctx),
	                 0);
	assert_int_equal(signal_protocol_key_helper_generate_registration_id(&p->regid, 0, gctx),
	                 0);
	assert_int_equal(
	    ec_public_key_serialize(&pub, ratchet_identity_key_pair_get_public(p->identity)), 0);
	assert_int_equal(
	    ec_private_key_serialize(&priv, ratchet_identity_key_pair_get_private(p->identity)), 0);
	assert_int_equal(idstore_set_local(p->f->db, signal_buffer_data(pub),
	                                   signal_buffer_len(pub), signal_buffer_data(priv),
	                                   signal_buffer_len(priv), p->regid, &e),
	                 0);
	signal_buffer_free(pub);
	signal_buffer_bzero_free(priv);
	party_open_store(p, gctx);
}

static void
party_reopen(struct party *p, signal_context *gctx)
{
	signal_protocol_store_context_destroy(p->store);
	fixture_reopen(p->f);
	party_open_store(p, gctx);
}

static void
party_free(struct party *p)
{
	signal_protocol_store_context_destroy(p->store);
	SIGNAL_UNREF(p->identity);
	fixture_free(p->f);
}

/* Publish one prekey and a signed prekey of p as a bundle. */
static session_pre_key_bundle *
party_bundle(struct party *p, signal_context *gctx)
{
	signal_protocol_key_helper_pre_key_list_node *head;
	session_signed_pre_key *spk;
	session_pre_key_bundle *bundle;
	session_pre_key *pk;

	assert_int_equal(signal_protocol_key_helper_generate_pre_keys(&head, 31, 1, gctx), 0);
	pk = signal_protocol_key_helper_key_list_element(head);
	assert_int_equal(signal_protocol_pre_key_store_key(p->store, pk), 0);
	assert_int_equal(
	    signal_protocol_key_helper_generate_signed_pre_key(&spk, p->identity, 7, 1000, gctx),
	    0);
	assert_int_equal(signal_protocol_signed_pre_key_store_key(p->store, spk), 0);
	assert_int_equal(session_pre_key_bundle_create(
	                     &bundle, p->regid, 1, 31,
	                     ec_key_pair_get_public(session_pre_key_get_key_pair(pk)), 7,
	                     ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
	                     session_signed_pre_key_get_signature(spk),
	                     session_signed_pre_key_get_signature_len(spk),
	                     ratchet_identity_key_pair_get_public(p->identity)),
	                 0);
	signal_protocol_key_helper_key_list_free(head);
	SIGNAL_UNREF(spk);
	return bundle;
}

static signal_buffer *
encrypt(struct party *from, const signal_protocol_address *to, const char *text, int *type,
        signal_context *gctx)
{
	session_cipher *cipher;
	ciphertext_message *msg;
	signal_buffer *out;

	assert_int_equal(session_cipher_create(&cipher, from->store, to, gctx), 0);
	assert_int_equal(session_cipher_encrypt(cipher, (const uint8_t *)text, strlen(text), &msg),
	                 0);
	*type = ciphertext_message_get_type(msg);
	out = signal_buffer_copy(ciphertext_message_get_serialized(msg));
	SIGNAL_UNREF(msg);
	session_cipher_free(cipher);
	return out;
}

struct delivery {
	struct db *db;
	int64_t conversation;
	const char *relay_id;
};

/* The decryption callback: the plaintext goes into history inside the
 * decrypt's transaction, keyed by the relay's id. */
static int
store_plaintext(session_cipher *cipher, signal_buffer *plaintext, void *decrypt_context)
{
	struct delivery *d = decrypt_context;
	struct history_message m = {0};
	char *body =
	    xstrndup((const char *)signal_buffer_data(plaintext), signal_buffer_len(plaintext));
	int64_t id;
	struct err e;
	int rc;

	(void)cipher;
	m.conversation_id = d->conversation;
	m.sender_name = "alice";
	m.sender_device = 1;
	m.relay_id = (char *)d->relay_id;
	m.body = body;
	rc = history_insert_incoming(d->db, &m, &id, &e);
	free(body);
	return rc == 0 ? 0 : sigstore_sg_code(&e);
}

/* Decrypt inside BEGIN ... COMMIT/ROLLBACK the way the engine will. */
static int
decrypt(struct party *to, const signal_protocol_address *from, signal_buffer *data, int type,
        const char *relay_id, bool commit, signal_context *gctx)
{
	struct delivery d = {to->f->db, 0, relay_id};
	signal_buffer *plain = NULL;
	session_cipher *cipher;
	struct err e;
	int rc;

	assert_int_equal(conversations_direct(to->f->db, "alice", &d.conversation, &e), 0);
	assert_int_equal(session_cipher_create(&cipher, to->store, from, gctx), 0);
	session_cipher_set_decryption_callback(cipher, store_plaintext);
	assert_int_equal(db_begin(to->f->db, &e), 0);
	if (type == CIPHERTEXT_PREKEY_TYPE) {
		pre_key_signal_message *msg;
		assert_int_equal(pre_key_signal_message_deserialize(&msg, signal_buffer_data(data),
		                                                    signal_buffer_len(data), gctx),
		                 0);
		rc = session_cipher_decrypt_pre_key_signal_message(cipher, msg, &d, &plain);
		SIGNAL_UNREF(msg);
	} else {
		signal_message *msg;
		assert_int_equal(signal_message_deserialize(&msg, signal_buffer_data(data),
		                                            signal_buffer_len(data), gctx),
		                 0);
		rc = session_cipher_decrypt_signal_message(cipher, msg, &d, &plain);
		SIGNAL_UNREF(msg);
	}
	if (rc == 0 && commit)
		assert_int_equal(db_commit(to->f->db, &e), 0);
	else
		assert_int_equal(db_rollback(to->f->db, &e), 0);
	signal_buffer_free(plain);
	session_cipher_free(cipher);
	return rc;
}

static int64_t
history_count(struct party *p)
{
	struct history_message *list;
	int64_t conv;
	size_t n;
	struct err e;

	assert_int_equal(conversations_direct(p->f->db, "alice", &conv, &e), 0);
	assert_int_equal(history_page_before(p->f->db, conv, 0, 100, &list, &n, &e), 0);
	history_messages_free(list, n);
	return (int64_t)n;
}

static void
test_sigstore_real_session_rollback_then_commit_and_reopen(void **state)
{
	struct party alice, bob;
	signal_context *gctx;
	session_pre_key_bundle *bundle;
	session_builder *builder;
	signal_buffer *wire;
	unsigned char *key;
	size_t key_len;
	bool verified;
	int type;
	struct err e;

	(void)state;
	if (cprov_context_create(&gctx, &e) != 0)
		fail_msg("%s", e.msg);
	party_new(&alice, "alice", gctx);
	party_new(&bob, "bob", gctx);

	bundle = party_bundle(&bob, gctx);
	assert_int_equal(session_builder_create(&builder, alice.store, &bob.addr, gctx), 0);
	assert_int_equal(session_builder_process_pre_key_bundle(builder, bundle), 0);
	session_builder_free(builder);
	SIGNAL_UNREF(bundle);
	wire = encrypt(&alice, &bob.addr, "first words", &type, gctx);
	assert_int_equal(type, CIPHERTEXT_PREKEY_TYPE);

	/* Crash before commit: everything the decrypt did is undone. */
	assert_int_equal(decrypt(&bob, &alice.addr, wire, type, "relay-1", false, gctx), 0);
	assert_int_equal(signal_protocol_session_contains_session(bob.store, &alice.addr), 0);
	assert_int_equal(signal_protocol_pre_key_contains_key(bob.store, 31), 1);
	assert_int_equal(idstore_get(bob.f->db, "alice", 1, &key, &key_len, &verified, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_int_equal(history_count(&bob), 0);

	/* The redelivery decrypts and commits. */
	assert_int_equal(decrypt(&bob, &alice.addr, wire, type, "relay-1", true, gctx), 0);
	assert_int_equal(signal_protocol_session_contains_session(bob.store, &alice.addr), 1);
	assert_int_equal(signal_protocol_pre_key_contains_key(bob.store, 31), 0);
	assert_int_equal(idstore_get(bob.f->db, "alice", 1, &key, &key_len, &verified, &e), 0);
	free(key);
	assert_int_equal(history_count(&bob), 1);

	/* A second redelivery after the commit is a duplicate. */
	assert_int_equal(decrypt(&bob, &alice.addr, wire, type, "relay-1", true, gctx),
	                 SG_ERR_DUPLICATE_MESSAGE);
	assert_int_equal(history_count(&bob), 1);
	signal_buffer_free(wire);

	/* Both restart; the ratchet carries on from the database. */
	party_reopen(&alice, gctx);
	party_reopen(&bob, gctx);
	wire = encrypt(&bob, &alice.addr, "reply after restart", &type, gctx);
	assert_int_equal(type, CIPHERTEXT_SIGNAL_TYPE);
	{
		session_cipher *cipher;
		signal_message *msg;
		signal_buffer *plain;

		assert_int_equal(session_cipher_create(&cipher, alice.store, &bob.addr, gctx), 0);
		assert_int_equal(signal_message_deserialize(&msg, signal_buffer_data(wire),
		                                            signal_buffer_len(wire), gctx),
		                 0);
		assert_int_equal(session_cipher_decrypt_signal_message(cipher, msg, NULL, &plain),
		                 0);
		assert_int_equal(signal_buffer_len(plain), 19);
		assert_memory_equal(signal_buffer_data(plain), "reply after restart", 19);
		signal_buffer_free(plain);
		SIGNAL_UNREF(msg);
		session_cipher_free(cipher);
	}
	signal_buffer_free(wire);
	wire = encrypt(&alice, &bob.addr, "and back again", &type, gctx);
	assert_int_equal(type, CIPHERTEXT_SIGNAL_TYPE);
	assert_int_equal(decrypt(&bob, &alice.addr, wire, type, "relay-2", true, gctx), 0);
	assert_int_equal(history_count(&bob), 2);
	signal_buffer_free(wire);

	party_free(&alice);
	party_free(&bob);
	cprov_context_destroy(gctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sigstore_load_session_is_1_with_record_or_0_with_nothing),
	    cmocka_unit_test(test_sigstore_contains_session_is_exact),
	    cmocka_unit_test(test_sigstore_sub_device_list_is_allocated_even_when_empty),
	    cmocka_unit_test(test_sigstore_delete_functions_report_what_they_deleted),
	    cmocka_unit_test(test_sigstore_stored_arguments_are_copied),
	    cmocka_unit_test(test_sigstore_prekey_contract),
	    cmocka_unit_test(test_sigstore_signed_prekey_contract_and_rotation_list),
	    cmocka_unit_test(test_sigstore_identity_key_pair_sets_both_buffers),
	    cmocka_unit_test(test_sigstore_sender_key_store_load_delete),
	    cmocka_unit_test(test_sigstore_sql_failure_is_our_error_code_not_a_crash),
	    cmocka_unit_test(test_sigstore_records_survive_close_and_reopen),
	    cmocka_unit_test(test_sigstore_real_session_rollback_then_commit_and_reopen),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
