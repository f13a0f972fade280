/* Unit tests for src/wire/: strict base64, the frame codec (every frame
 * round-trips; garbage, truncated, oversized, deeply nested and invalid
 * UTF-8 input is refused with a clear error), and the blob auth header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "wire/b64.h"
#include "wire/wire.h"

/* ---- helpers ---- */

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
make_key(uint8_t key[WIRE_KEY_LEN], uint8_t seed)
{
	fill(key, WIRE_KEY_LEN, seed);
	key[0] = 0x05;
}

static void
make_spk(struct wire_signed_prekey *spk, uint32_t id)
{
	spk->id = id;
	make_key(spk->pub, (uint8_t)id);
	fill(spk->sig, WIRE_SIG_LEN, 0x40);
}

/* Build f, parse the text back into *back, and check that building *back
 * gives the very same text. Returns the text (caller frees). */
static char *
roundtrip(const struct wire_frame *f, struct wire_frame *back)
{
	struct err e = {0};
	size_t len, len2;
	char *s, *s2;

	s = wire_build(f, &len, &e);
	if (s == NULL)
		fail_msg("build failed: %s", e.msg);
	assert_int_equal(strlen(s), len);
	if (wire_parse(s, len, back, &e) < 0)
		fail_msg("parse of %s failed: %s", s, e.msg);
	s2 = wire_build(back, &len2, &e);
	assert_non_null(s2);
	assert_string_equal(s, s2);
	free(s2);
	assert_int_equal(back->kind, f->kind);
	assert_int_equal(back->id, f->id);
	assert_int_equal(back->type, f->type);
	assert_int_equal(back->push, f->push);
	return s;
}

/* Parse a NUL-terminated text that must be refused with code. Returns the
 * error so callers can check the message. */
static struct err
refuse(const char *text, enum err_code code)
{
	struct wire_frame f;
	struct err e = {0};

	if (wire_parse(text, strlen(text), &f, &e) == 0) {
		wire_frame_free(&f);
		fail_msg("accepted: %s", text);
	}
	if (e.code != code)
		fail_msg("%s: code %s, message \"%s\"", text, err_code_name(e.code), e.msg);
	assert_true(strlen(e.msg) > 0);
	return e;
}

static void
accept_frame(const char *text, struct wire_frame *f)
{
	struct err e = {0};

	if (wire_parse(text, strlen(text), f, &e) < 0)
		fail_msg("refused %s: %s", text, e.msg);
}

/* A valid auth frame text used by several tests. */
static const char auth_text[] = "{\"id\":1,\"type\":\"auth\",\"account\":\"alice\",\"device\":1,"
                                "\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}";

/* ---- base64 ---- */

static void
test_b64_matches_rfc4648_vectors(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	size_t i, n;
	uint8_t *dec;
	char *enc;
	(void)state;

	for (i = 0; i < 7; i++) {
		enc = b64_encode((const uint8_t *)in[i], strlen(in[i]));
		assert_string_equal(enc, out[i]);
		assert_int_equal(strlen(enc), b64_encoded_len(strlen(in[i])));
		assert_int_equal(b64_decode(enc, strlen(enc), &dec, &n, NULL), 0);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(dec, in[i], n);
		free(dec);
		free(enc);
	}
}

static void
test_b64_rejects_non_canonical_input(void **state)
{
	static const char *const bad[] = {
	    "Zg=",    /* length not a multiple of 4 */
	    "Zg===",  /* too much padding */
	    "Z===",   /* impossible length */
	    "Zh==",   /* non-zero trailing bits */
	    "Zm9=",   /* non-zero trailing bits */
	    "Zm 9v",  /* white space */
	    "Zm9v\n", /* newline */
	    "Zm-v",   /* base64url character */
	    "Z=g=",   /* padding in the middle */
	    "=Zg=",   /* padding first */
	    "Zm9v====",
	};
	struct err e = {0};
	size_t i, n;
	uint8_t *dec;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (b64_decode(bad[i], strlen(bad[i]), &dec, &n, &e) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_INVALID);
	}
}

/* Every byte outside the alphabet, in every position of a quad and of a
 * short tail, is refused and named by its offset; every byte value
 * survives a round trip at every tail length. */
static void
test_b64_refuses_each_byte_outside_the_alphabet_where_it_stands(void **state)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char text[9], want[40];
	uint8_t raw[256], *dec;
	struct err e = {0};
	size_t pos, n, len;
	int c;
	char *enc;
	(void)state;

	for (c = 1; c < 256; c++) {
		if (strchr(alphabet, c) != NULL)
			continue;
		for (pos = 0; pos < 7; pos++) {
			memcpy(text, "Zm9vYmE=", 9); /* "fooba" */
			text[pos] = (char)c;
			snprintf(want, sizeof want, "offset %zu", pos);
			if (b64_decode(text, 8, &dec, &n, &e) == 0)
				fail_msg("accepted byte %d at %zu", c, pos);
			if (c != '=' || pos != 6)
				assert_non_null(strstr(e.msg, want));
		}
	}
	for (c = 0; c < 256; c++)
		raw[c] = (uint8_t)(255 - c);
	for (len = 0; len <= sizeof raw; len++) {
		enc = b64_encode(raw, len);
		assert_int_equal(b64_decode(enc, strlen(enc), &dec, &n, NULL), 0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, raw, len);
		free(dec);
		free(enc);
	}
}

static void
test_b64_decode_exact_refuses_wrong_length(void **state)
{
	uint8_t out[4];
	struct err e = {0};
	(void)state;

	assert_int_equal(b64_decode_exact("Zm9v", 4, out, 3, &e), 0);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(b64_decode_exact("Zm9vYg==", 8, out, 3, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(b64_decode_exact("Zm8=", 4, out, 3, &e), -1);
}

static void
test_b64url_roundtrips_blob_ids_without_padding(void **state)
{
	uint8_t id[16], back[16];
	char *s;
	(void)state;

	fill(id, sizeof id, 0xF0); /* high bytes produce '-' and '_' */
	s = b64url_encode(id, sizeof id);
	assert_int_equal(strlen(s), WIRE_BLOB_ID_CHARS);
	assert_int_equal(b64url_encoded_len(16), WIRE_BLOB_ID_CHARS);
	assert_null(strchr(s, '='));
	assert_null(strchr(s, '+'));
	assert_null(strchr(s, '/'));
	assert_int_equal(b64url_decode_exact(s, strlen(s), back, sizeof back, NULL), 0);
	assert_memory_equal(id, back, sizeof id);
	free(s);
	assert_int_equal(b64url_decode_exact("Zg==", 4, back, 1, NULL), -1);
	assert_int_equal(b64url_decode_exact("Zm+v", 4, back, 3, NULL), -1);
}

/* ---- names and ids ---- */

static void
test_names_follow_the_page_syntax(void **state)
{
	(void)state;
	assert_true(wire_name_valid("a"));
	assert_true(wire_name_valid("alice"));
	assert_true(wire_name_valid("bob.smith_2-x"));
	assert_true(wire_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(wire_name_valid(""));
	assert_false(wire_name_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
	assert_false(wire_name_valid("Alice"));
	assert_false(wire_name_valid("1alice"));
	assert_false(wire_name_valid(".alice"));
	assert_false(wire_name_valid("al ice"));
	assert_false(wire_name_valid("al:ice"));
	assert_false(wire_name_valid("al\xc3\xa9"));
}

static void
test_msg_ids_are_base64_16_or_uuid(void **state)
{
	(void)state;
	assert_true(wire_msg_id_valid("3q2+7wAAAAAAAAAAAAAAAA=="));
	assert_true(wire_msg_id_valid("123e4567-e89b-12d3-a456-426614174000"));
	assert_true(wire_msg_id_valid("123E4567-E89B-12D3-A456-426614174000"));
	assert_false(wire_msg_id_valid(""));
	assert_false(wire_msg_id_valid("3q2+7wAAAAAAAAAAAAAAAB=="));             /* trailing bits */
	assert_false(wire_msg_id_valid("3q2+7wAAAAAAAAAAAAAAAAAA"));             /* 18 bytes */
	assert_false(wire_msg_id_valid("123e4567e89b-12d3-a456-426614174000-")); /* dash moved */
	assert_false(wire_msg_id_valid("123e4567-e89b-12d3-a456-42661417400g"));
	assert_false(wire_msg_id_valid("hello"));
}

static void
test_name_tables_are_inverse(void **state)
{
	int t;
	enum wire_msg_type mt;
	(void)state;

	for (t = 1; t < WIRE_T_COUNT; t++)
		assert_int_equal(wire_type_from_name(wire_type_name((enum wire_type)t)), t);
	assert_int_equal(wire_type_from_name("nope"), WIRE_T_NONE);
	assert_null(wire_type_name((enum wire_type)99));
	for (t = WIRE_P_ENVELOPE; t <= WIRE_P_KEYS_LOW; t++)
		assert_int_equal(wire_push_from_name(wire_push_name((enum wire_push)t)), t);
	for (t = WIRE_MSG_PREKEY; t <= WIRE_MSG_DISTRIBUTION; t++) {
		assert_int_equal(
		    wire_msg_type_from_name(wire_msg_type_name((enum wire_msg_type)t), &mt), 0);
		assert_int_equal(mt, t);
	}
	assert_int_equal(wire_msg_type_from_name("whisper", &mt), -1);
	assert_string_equal(wire_status_error(409), "mismatched_devices");
	assert_string_equal(wire_status_error(429), "rate_limited");
}

/* ---- round trips: requests ---- */

static void
test_auth_roundtrips_and_keeps_secret(void **state)
{
	struct wire_frame f = {0}, b;
	char *s;
	(void)state;

	f.kind = WIRE_REQUEST;
	f.id = 1;
	f.type = WIRE_T_AUTH;
	strcpy(f.u.req.u.auth.account, "alice");
	f.u.req.u.auth.device = 2147483647u;
	fill(f.u.req.u.auth.secret, WIRE_SECRET_LEN, 0);
	s = roundtrip(&f, &b);
	assert_string_equal(b.u.req.u.auth.account, "alice");
	assert_int_equal(b.u.req.u.auth.device, 2147483647u);
	assert_memory_equal(b.u.req.u.auth.secret, f.u.req.u.auth.secret, WIRE_SECRET_LEN);
	wipe_free_str(s);
	wire_frame_free(&b);
	/* wire_frame_free wipes and can be called twice. */
	assert_int_equal(b.u.req.u.auth.secret[5], 0);
	wire_frame_free(&b);
}

static void
test_register_roundtrips_with_and_without_token(void **state)
{
	struct wire_frame f = {0}, b;
	char *s;
	(void)state;

	f.kind = WIRE_REQUEST;
	f.id = 9007199254740991ull;
	f.type = WIRE_T_REGISTER;
	strcpy(f.u.req.u.reg.account, "bob.smith");
	f.u.req.u.reg.registration_id = 16380;
	make_key(f.u.req.u.reg.identity_key, 3);
	make_spk(&f.u.req.u.reg.signed_prekey, 0xFFFFFF);
	fill(f.u.req.u.reg.secret, WIRE_SECRET_LEN, 9);
	s = roundtrip(&f, &b);
	assert_null(b.u.req.u.reg.token);
	assert_int_equal(b.u.req.u.reg.registration_id, 16380);
	assert_memory_equal(b.u.req.u.reg.identity_key, f.u.req.u.reg.identity_key, WIRE_KEY_LEN);
	assert_int_equal(b.u.req.u.reg.signed_prekey.id, 0xFFFFFF);
	assert_memory_equal(b.u.req.u.reg.signed_prekey.sig, f.u.req.u.reg.signed_prekey.sig,
	                    WIRE_SIG_LEN);
	free(s);
	wire_frame_free(&b);

	f.u.req.u.reg.token = (char *)"invite-\xc3\xa9t\xc3\xa9";
	s = roundtrip(&f, &b);
	assert_string_equal(b.u.req.u.reg.token, "invite-\xc3\xa9t\xc3\xa9");
	free(s);
	wire_frame_free(&b);
}

static void
test_simple_requests_roundtrip(void **state)
{
	static const enum wire_type types[] = {WIRE_T_PING, WIRE_T_DEVICE_LIST, WIRE_T_KEYS_COUNT};
	struct wire_frame f = {0}, b;
	size_t i;
	char *s;
	(void)state;

	for (i = 0; i < 3; i++) {
		memset(&f, 0, sizeof f);
		f.kind = WIRE_REQUEST;
		f.id = 5 + i;
		f.type = types[i];
		s = roundtrip(&f, &b);
		free(s);
		wire_frame_free(&b);
	}
	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 3;
	f.type = WIRE_T_DEVICE_REMOVE;
	f.u.req.u.device_remove.device = 4;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.device_remove.device, 4);
	free(s);
	wire_frame_free(&b);

	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 4;
	f.type = WIRE_T_DEVICE_ADD;
	f.u.req.u.device_add.registration_id = 77;
	fill(f.u.req.u.device_add.secret, WIRE_SECRET_LEN, 1);
	make_spk(&f.u.req.u.device_add.signed_prekey, 12);
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.device_add.registration_id, 77);
	assert_int_equal(b.u.req.u.device_add.signed_prekey.id, 12);
	free(s);
	wire_frame_free(&b);
}

static void
test_keys_upload_and_fetch_roundtrip(void **state)
{
	struct wire_frame f = {0}, b;
	struct wire_prekey pk[WIRE_MAX_PREKEYS];
	size_t i;
	char *s;
	(void)state;

	memset(pk, 0, sizeof pk); /* padding too: the arrays are compared whole */
	for (i = 0; i < WIRE_MAX_PREKEYS; i++) {
		pk[i].id = (uint32_t)i;
		make_key(pk[i].pub, (uint8_t)i);
	}
	f.kind = WIRE_REQUEST;
	f.id = 10;
	f.type = WIRE_T_KEYS_UPLOAD;
	f.u.req.u.keys_upload.prekeys = pk;
	f.u.req.u.keys_upload.n_prekeys = WIRE_MAX_PREKEYS;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.keys_upload.has_signed_prekey, 0);
	assert_int_equal(b.u.req.u.keys_upload.n_prekeys, WIRE_MAX_PREKEYS);
	assert_memory_equal(b.u.req.u.keys_upload.prekeys, pk, sizeof pk);
	free(s);
	wire_frame_free(&b);

	f.u.req.u.keys_upload.prekeys = NULL;
	f.u.req.u.keys_upload.n_prekeys = 0;
	f.u.req.u.keys_upload.has_signed_prekey = 1;
	make_spk(&f.u.req.u.keys_upload.signed_prekey, 2);
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.keys_upload.has_signed_prekey, 1);
	assert_null(b.u.req.u.keys_upload.prekeys);
	free(s);
	wire_frame_free(&b);

	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 11;
	f.type = WIRE_T_KEYS_FETCH;
	strcpy(f.u.req.u.keys_fetch.account, "carol");
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.keys_fetch.device, 0);
	assert_null(strstr(s, "device"));
	free(s);
	wire_frame_free(&b);
	f.u.req.u.keys_fetch.device = 3;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.keys_fetch.device, 3);
	free(s);
	wire_frame_free(&b);
}

static void
test_send_and_send_multi_roundtrip(void **state)
{
	struct wire_frame f = {0}, b;
	struct wire_message msgs[3];
	struct wire_send sends[2];
	uint8_t c1[1], c2[WIRE_MAX_CONTENT];
	char *s;
	(void)state;

	fill(c1, sizeof c1, 1);
	fill(c2, sizeof c2, 2);
	memset(msgs, 0, sizeof msgs);
	msgs[0] = (struct wire_message){1, 100, WIRE_MSG_PREKEY, c1, sizeof c1};
	msgs[1] = (struct wire_message){2, 200, WIRE_MSG_NORMAL, c2, sizeof c2};
	msgs[2] = (struct wire_message){7, 300, WIRE_MSG_DISTRIBUTION, c1, sizeof c1};
	memset(sends, 0, sizeof sends);
	strcpy(sends[0].to, "bob");
	sends[0].messages = msgs;
	sends[0].n_messages = 2;
	f.kind = WIRE_REQUEST;
	f.id = 12;
	f.type = WIRE_T_SEND;
	strcpy(f.u.req.u.send.msg_id, "123e4567-e89b-12d3-a456-426614174000");
	f.u.req.u.send.sends = sends;
	f.u.req.u.send.n_sends = 1;
	s = roundtrip(&f, &b);
	assert_true(strlen(s) <= WIRE_MAX_FRAME);
	assert_int_equal(b.u.req.u.send.n_sends, 1);
	assert_string_equal(b.u.req.u.send.sends[0].to, "bob");
	assert_int_equal(b.u.req.u.send.sends[0].n_messages, 2);
	assert_int_equal(b.u.req.u.send.sends[0].messages[1].type, WIRE_MSG_NORMAL);
	assert_int_equal(b.u.req.u.send.sends[0].messages[1].content_len, sizeof c2);
	assert_memory_equal(b.u.req.u.send.sends[0].messages[1].content, c2, sizeof c2);
	free(s);
	wire_frame_free(&b);

	/* A send to one's own account with no other device has no messages. */
	sends[0].n_messages = 0;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.send.sends[0].n_messages, 0);
	free(s);
	wire_frame_free(&b);

	sends[0].n_messages = 1;
	strcpy(sends[1].to, "carol");
	sends[1].messages = msgs + 2;
	sends[1].n_messages = 1;
	f.type = WIRE_T_SEND_MULTI;
	strcpy(f.u.req.u.send.msg_id, "3q2+7wAAAAAAAAAAAAAAAA==");
	f.u.req.u.send.n_sends = 2;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.send.n_sends, 2);
	assert_string_equal(b.u.req.u.send.sends[1].to, "carol");
	assert_int_equal(b.u.req.u.send.sends[1].messages[0].type, WIRE_MSG_DISTRIBUTION);
	assert_string_equal(b.u.req.u.send.msg_id, "3q2+7wAAAAAAAAAAAAAAAA==");
	free(s);
	wire_frame_free(&b);
}

static void
test_ack_roundtrips(void **state)
{
	struct wire_frame f = {0}, b;
	uint64_t ids[] = {1, 2, 9007199254740991ull};
	char *s;
	(void)state;

	f.kind = WIRE_REQUEST;
	f.id = 13;
	f.type = WIRE_T_ACK;
	f.u.req.u.ack.ids = ids;
	f.u.req.u.ack.n_ids = 3;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.req.u.ack.n_ids, 3);
	assert_memory_equal(b.u.req.u.ack.ids, ids, sizeof ids);
	free(s);
	wire_frame_free(&b);
}

/* ---- round trips: responses and pushes ---- */

static void
test_success_responses_roundtrip(void **state)
{
	struct wire_frame f = {0}, b;
	struct wire_device_info devs[2] = {{1, 10, 1000, 2000}, {3, 30, 3000, 4000}};
	struct wire_bundle bundles[2];
	char *s;
	(void)state;

	f.kind = WIRE_RESPONSE;
	f.id = 1;
	f.type = WIRE_T_REGISTER;
	f.u.resp.status = 200;
	f.u.resp.device = 1;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.device, 1);
	free(s);
	wire_frame_free(&b);

	f.type = WIRE_T_KEYS_COUNT;
	f.u.resp.count = 42;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.count, 42);
	free(s);
	wire_frame_free(&b);

	f.type = WIRE_T_SEND_MULTI;
	f.u.resp.ts = 1764160000000;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.ts, 1764160000000);
	free(s);
	wire_frame_free(&b);

	f.type = WIRE_T_ACK;
	s = roundtrip(&f, &b);
	assert_string_equal(s, "{\"id\":1,\"type\":\"ack\",\"status\":200}");
	free(s);
	wire_frame_free(&b);

	f.type = WIRE_T_DEVICE_LIST;
	f.u.resp.devices = devs;
	f.u.resp.n_devices = 2;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.n_devices, 2);
	assert_memory_equal(b.u.resp.devices, devs, sizeof devs);
	free(s);
	wire_frame_free(&b);

	memset(&f, 0, sizeof f);
	memset(bundles, 0, sizeof bundles);
	f.kind = WIRE_RESPONSE;
	f.id = 2;
	f.type = WIRE_T_KEYS_FETCH;
	f.u.resp.status = 200;
	strcpy(f.u.resp.account, "bob");
	make_key(f.u.resp.identity_key, 8);
	bundles[0].device = 1;
	bundles[0].registration_id = 5;
	make_spk(&bundles[0].signed_prekey, 1);
	bundles[0].has_prekey = 1;
	bundles[0].prekey.id = 77;
	make_key(bundles[0].prekey.pub, 77);
	bundles[1].device = 2;
	bundles[1].registration_id = 6;
	make_spk(&bundles[1].signed_prekey, 2);
	f.u.resp.bundles = bundles;
	f.u.resp.n_bundles = 2;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.n_bundles, 2);
	assert_memory_equal(b.u.resp.bundles, bundles, sizeof bundles);
	assert_string_equal(b.u.resp.account, "bob");
	free(s);
	wire_frame_free(&b);
}

static void
test_error_responses_roundtrip_with_mismatch_lists(void **state)
{
	struct wire_frame f = {0}, b;
	uint32_t missing[] = {1, 4}, stale[] = {2};
	struct wire_mismatch mm[2];
	char unknown[2][WIRE_NAME_MAX + 1] = {"dave", "erin"};
	char *s;
	(void)state;

	memset(mm, 0, sizeof mm);
	mm[0].missing = missing;
	mm[0].n_missing = 2;
	mm[0].stale = stale;
	mm[0].n_stale = 1;
	f.kind = WIRE_RESPONSE;
	f.id = 3;
	f.type = WIRE_T_SEND;
	f.u.resp.status = 409;
	strcpy(f.u.resp.error, "mismatched_devices");
	strcpy(f.u.resp.message, "device list changed");
	f.u.resp.mismatches = mm;
	f.u.resp.n_mismatches = 1;
	s = roundtrip(&f, &b);
	assert_non_null(strstr(s, "\"missing\":[1,4],\"extra\":[],\"stale\":[2]"));
	assert_int_equal(b.u.resp.n_mismatches, 1);
	assert_int_equal(b.u.resp.mismatches[0].n_missing, 2);
	assert_int_equal(b.u.resp.mismatches[0].missing[1], 4);
	assert_int_equal(b.u.resp.mismatches[0].n_extra, 0);
	assert_int_equal(b.u.resp.mismatches[0].stale[0], 2);
	free(s);
	wire_frame_free(&b);

	strcpy(mm[0].to, "bob");
	strcpy(mm[1].to, "carol");
	mm[1].extra = stale;
	mm[1].n_extra = 1;
	f.type = WIRE_T_SEND_MULTI;
	f.u.resp.n_mismatches = 2;
	s = roundtrip(&f, &b);
	assert_string_equal(b.u.resp.mismatches[1].to, "carol");
	assert_int_equal(b.u.resp.mismatches[1].extra[0], 2);
	free(s);
	wire_frame_free(&b);

	memset(&f.u.resp, 0, sizeof f.u.resp);
	f.u.resp.status = 404;
	strcpy(f.u.resp.error, "not_found");
	strcpy(f.u.resp.message, "unknown accounts");
	f.u.resp.unknown = unknown;
	f.u.resp.n_unknown = 2;
	s = roundtrip(&f, &b);
	assert_string_equal(b.u.resp.unknown[1], "erin");
	free(s);
	wire_frame_free(&b);

	memset(&f.u.resp, 0, sizeof f.u.resp);
	f.type = WIRE_T_KEYS_FETCH;
	f.u.resp.status = 429;
	strcpy(f.u.resp.error, "rate_limited");
	strcpy(f.u.resp.message, "slow down");
	f.u.resp.has_retry_after = 1;
	f.u.resp.retry_after_ms = 1500;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.resp.has_retry_after, 1);
	assert_int_equal(b.u.resp.retry_after_ms, 1500);
	free(s);
	wire_frame_free(&b);
}

static void
test_pushes_roundtrip(void **state)
{
	struct wire_frame f = {0}, b;
	uint8_t content[100];
	char *s;
	(void)state;

	fill(content, sizeof content, 3);
	f.kind = WIRE_PUSH;
	f.push = WIRE_P_ENVELOPE;
	f.u.push.envelope.id = 41;
	strcpy(f.u.push.envelope.from, "bob");
	f.u.push.envelope.from_device = 2;
	f.u.push.envelope.from_registration_id = 4711;
	f.u.push.envelope.type = WIRE_MSG_SENDERKEY;
	f.u.push.envelope.ts = 1764160000000;
	f.u.push.envelope.content = content;
	f.u.push.envelope.content_len = sizeof content;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.push.envelope.id, 41);
	assert_string_equal(b.u.push.envelope.from, "bob");
	assert_int_equal(b.u.push.envelope.from_registration_id, 4711);
	assert_int_equal(b.u.push.envelope.type, WIRE_MSG_SENDERKEY);
	assert_memory_equal(b.u.push.envelope.content, content, sizeof content);
	free(s);
	wire_frame_free(&b);

	memset(&f, 0, sizeof f);
	f.kind = WIRE_PUSH;
	f.push = WIRE_P_QUEUE_EMPTY;
	s = roundtrip(&f, &b);
	assert_string_equal(s, "{\"push\":\"queue.empty\"}");
	free(s);
	wire_frame_free(&b);

	f.push = WIRE_P_KEYS_LOW;
	f.u.push.count = 3;
	s = roundtrip(&f, &b);
	assert_int_equal(b.u.push.count, 3);
	free(s);
	wire_frame_free(&b);
}

/* The frames sent per message are written without jansson: their text
 * must be exactly what the generic writer gave (members in this order,
 * nothing escaped, "/" in base64 left alone). */
/* Parse text as it comes (the direct reader takes it) and with a space
 * after the first brace (only jansson takes that): both must agree. */
static void
parse_both_ways(const char *text, struct wire_frame *fast, struct wire_frame *slow)
{
	char *spaced = xasprintf("{ %s", text + 1);
	struct err e = {0};

	if (wire_parse(text, strlen(text), fast, &e) < 0)
		fail_msg("direct parse of %s: %s", text, e.msg);
	if (wire_parse(spaced, strlen(spaced), slow, &e) < 0)
		fail_msg("generic parse of %s: %s", spaced, e.msg);
	free(spaced);
	assert_int_equal(fast->kind, slow->kind);
	assert_int_equal(fast->id, slow->id);
	assert_int_equal(fast->type, slow->type);
	assert_int_equal(fast->push, slow->push);
}

static void
test_direct_reading_agrees_with_jansson(void **state)
{
	struct wire_frame a, b;
	struct wire_send *x, *y;
	size_t i;
	(void)state;

	parse_both_ways(
	    "{\"id\":12,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	    "\"to\":\"carol\",\"messages\":[{\"device\":1,\"registration_id\":7,"
	    "\"type\":\"normal\",\"content\":\"YWJj\"},{\"device\":3,"
	    "\"registration_id\":16380,\"type\":\"distribution\",\"content\":\"//4=\"}]}",
	    &a, &b);
	assert_string_equal(a.u.req.u.send.msg_id, b.u.req.u.send.msg_id);
	assert_int_equal(a.u.req.u.send.n_sends, 1);
	assert_int_equal(b.u.req.u.send.n_sends, 1);
	x = &a.u.req.u.send.sends[0];
	y = &b.u.req.u.send.sends[0];
	assert_string_equal(x->to, y->to);
	assert_int_equal(x->n_messages, 2);
	assert_int_equal(x->n_messages, y->n_messages);
	for (i = 0; i < x->n_messages; i++) {
		assert_int_equal(x->messages[i].device, y->messages[i].device);
		assert_int_equal(x->messages[i].registration_id, y->messages[i].registration_id);
		assert_int_equal(x->messages[i].type, y->messages[i].type);
		assert_int_equal(x->messages[i].content_len, y->messages[i].content_len);
		assert_memory_equal(x->messages[i].content, y->messages[i].content,
		                    x->messages[i].content_len);
	}
	wire_frame_free(&a);
	wire_frame_free(&b);

	parse_both_ways("{\"id\":5,\"type\":\"send\",\"msg_id\":\"123e4567-e89b-12d3-a456-"
	                "4266141740aa\",\"to\":\"me\",\"messages\":[]}",
	                &a, &b);
	assert_int_equal(a.u.req.u.send.sends[0].n_messages, 0);
	assert_int_equal(b.u.req.u.send.sends[0].n_messages, 0);
	wire_frame_free(&a);
	wire_frame_free(&b);

	parse_both_ways(
	    "{\"id\":9007199254740991,\"type\":\"ack\",\"ids\":[1,20,9007199254740991]}", &a, &b);
	assert_int_equal(a.u.req.u.ack.n_ids, 3);
	assert_int_equal(b.u.req.u.ack.n_ids, 3);
	assert_memory_equal(a.u.req.u.ack.ids, b.u.req.u.ack.ids, 3 * sizeof(uint64_t));
	wire_frame_free(&a);
	wire_frame_free(&b);

	parse_both_ways("{\"id\":12,\"type\":\"send\",\"status\":200,\"ts\":1764160000000}", &a,
	                &b);
	assert_int_equal(a.u.resp.status, 200);
	assert_int_equal(b.u.resp.status, 200);
	assert_int_equal(a.u.resp.ts, b.u.resp.ts);
	wire_frame_free(&a);
	wire_frame_free(&b);
	parse_both_ways("{\"id\":13,\"type\":\"ack\",\"status\":200}", &a, &b);
	assert_int_equal(a.u.resp.status, b.u.resp.status);
	wire_frame_free(&a);
	wire_frame_free(&b);

	parse_both_ways("{\"push\":\"envelope\",\"id\":41,\"from\":\"bob.s\",\"from_device\":2,"
	                "\"from_registration_id\":4711,\"type\":\"prekey\",\"ts\":0,"
	                "\"content\":\"//4=\"}",
	                &a, &b);
	assert_int_equal(a.u.push.envelope.id, b.u.push.envelope.id);
	assert_string_equal(a.u.push.envelope.from, b.u.push.envelope.from);
	assert_int_equal(a.u.push.envelope.from_device, b.u.push.envelope.from_device);
	assert_int_equal(a.u.push.envelope.from_registration_id,
	                 b.u.push.envelope.from_registration_id);
	assert_int_equal(a.u.push.envelope.type, b.u.push.envelope.type);
	assert_int_equal(a.u.push.envelope.ts, b.u.push.envelope.ts);
	assert_int_equal(a.u.push.envelope.content_len, 2);
	assert_memory_equal(a.u.push.envelope.content, b.u.push.envelope.content, 2);
	wire_frame_free(&a);
	wire_frame_free(&b);
}

/* Frames in the direct reader's shape whose values it refuses must be
 * refused all the same (by the generic reader, with its message), and
 * valid JSON it does not read (an escape) must still be accepted. */
static void
test_direct_reading_refuses_what_jansson_refuses(void **state)
{
	static const char *const bad[] = {
	    "{\"id\":01,\"type\":\"ack\",\"ids\":[1]}",
	    "{\"id\":0,\"type\":\"ack\",\"ids\":[1]}",
	    "{\"id\":1,\"type\":\"ack\",\"ids\":[9007199254740992]}",
	    "{\"id\":1,\"type\":\"ack\",\"ids\":[]}",
	    "{\"id\":1,\"type\":\"ack\",\"ids\":[1]}x",
	    "{\"id\":1,\"type\":\"ack\",\"ids\":[1.5]}",
	    "{\"id\":1,\"type\":\"send\",\"status\":200}",
	    "{\"id\":1,\"type\":\"send\",\"status\":200,\"ts\":-1}",
	    "{\"id\":1,\"type\":\"ack\",\"status\":200,\"ts\":1}x",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"not-an-id\",\"to\":\"bob\","
	    "\"messages\":[]}",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\",\"to\":\"Bob\","
	    "\"messages\":[]}",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\",\"to\":\"bob\","
	    "\"messages\":[{\"device\":1,\"registration_id\":7,\"type\":\"normal\","
	    "\"content\":\"YWJj\"},{\"device\":1,\"registration_id\":7,\"type\":\"normal\","
	    "\"content\":\"YWJj\"}]}",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\",\"to\":\"bob\","
	    "\"messages\":[{\"device\":1,\"registration_id\":16381,\"type\":\"normal\","
	    "\"content\":\"YWJj\"}]}",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\",\"to\":\"bob\","
	    "\"messages\":[{\"device\":1,\"registration_id\":7,\"type\":\"odd\","
	    "\"content\":\"YWJj\"}]}",
	    "{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\",\"to\":\"bob\","
	    "\"messages\":[{\"device\":1,\"registration_id\":7,\"type\":\"normal\","
	    "\"content\":\"YWJ\"}]}",
	    "{\"push\":\"envelope\",\"id\":1,\"from\":\"bob\",\"from_device\":0,"
	    "\"from_registration_id\":1,\"type\":\"normal\",\"ts\":0,\"content\":\"YWJj\"}",
	    "{\"push\":\"envelope\",\"id\":1,\"from\":\"bob\",\"from_device\":1,"
	    "\"from_registration_id\":1,\"type\":\"normal\",\"ts\":0,\"content\":\"\"}",
	};
	struct wire_frame f;
	struct err e;
	size_t i;
	char *many, *next_close;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (wire_parse(bad[i], strlen(bad[i]), &f, &e) == 0)
			fail_msg("accepted %s", bad[i]);
		wire_frame_free(&f);
	}
	/* 65 messages: one past the limit, refused as too large. */
	many = xstrdup("{\"id\":1,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	               "\"to\":\"bob\",\"messages\":[");
	for (i = 1; i <= WIRE_MAX_MESSAGES + 1; i++) {
		char *next = xasprintf("%s%s{\"device\":%zu,\"registration_id\":7,"
		                       "\"type\":\"normal\",\"content\":\"YWJj\"}",
		                       many, i > 1 ? "," : "", i);
		free(many);
		many = next;
	}
	next_close = xasprintf("%s]}", many);
	free(many);
	many = next_close;
	assert_int_equal(wire_parse(many, strlen(many), &f, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	wire_frame_free(&f);
	free(many);
	/* An escaped slash is valid JSON: not read directly, still accepted. */
	assert_int_equal(wire_parse("{\"push\":\"envelope\",\"id\":1,\"from\":\"bob\","
	                            "\"from_device\":1,\"from_registration_id\":1,\"type\":"
	                            "\"normal\",\"ts\":0,\"content\":\"\\/\\/4=\"}",
	                            strlen("{\"push\":\"envelope\",\"id\":1,\"from\":\"bob\","
	                                   "\"from_device\":1,\"from_registration_id\":1,\"type\":"
	                                   "\"normal\",\"ts\":0,\"content\":\"\\/\\/4=\"}"),
	                            &f, &e),
	                 0);
	assert_int_equal(f.u.push.envelope.content_len, 2);
	assert_int_equal(f.u.push.envelope.content[0], 0xff);
	wire_frame_free(&f);
}

static void
test_per_message_frames_have_the_exact_text(void **state)
{
	uint8_t abc[] = "abc", slash[] = {0xff, 0xfe};
	uint64_t ids[] = {5, 9007199254740991ull};
	struct wire_message msgs[2];
	struct wire_send sd;
	struct wire_frame f;
	size_t len;
	char *s;
	(void)state;

	memset(&f, 0, sizeof f);
	f.kind = WIRE_PUSH;
	f.push = WIRE_P_ENVELOPE;
	f.u.push.envelope.id = 41;
	strcpy(f.u.push.envelope.from, "bob.s");
	f.u.push.envelope.from_device = 2;
	f.u.push.envelope.from_registration_id = 4711;
	f.u.push.envelope.type = WIRE_MSG_PREKEY;
	f.u.push.envelope.ts = 1764160000000;
	f.u.push.envelope.content = slash;
	f.u.push.envelope.content_len = sizeof slash;
	s = wire_build(&f, &len, NULL);
	assert_string_equal(s,
	                    "{\"push\":\"envelope\",\"id\":41,\"from\":\"bob.s\",\"from_device\":2,"
	                    "\"from_registration_id\":4711,\"type\":\"prekey\","
	                    "\"ts\":1764160000000,\"content\":\"//4=\"}");
	assert_int_equal(len, strlen(s));
	free(s);

	memset(msgs, 0, sizeof msgs);
	msgs[0].device = 1;
	msgs[0].registration_id = 7;
	msgs[0].type = WIRE_MSG_NORMAL;
	msgs[0].content = abc;
	msgs[0].content_len = 3;
	msgs[1].device = 3;
	msgs[1].registration_id = 16380;
	msgs[1].type = WIRE_MSG_DISTRIBUTION;
	msgs[1].content = slash;
	msgs[1].content_len = sizeof slash;
	memset(&sd, 0, sizeof sd);
	strcpy(sd.to, "carol");
	sd.messages = msgs;
	sd.n_messages = 2;
	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 12;
	f.type = WIRE_T_SEND;
	strcpy(f.u.req.u.send.msg_id, "3q2+7wAAAAAAAAAAAAAAAA==");
	f.u.req.u.send.sends = &sd;
	f.u.req.u.send.n_sends = 1;
	s = wire_build(&f, &len, NULL);
	assert_string_equal(s,
	                    "{\"id\":12,\"type\":\"send\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	                    "\"to\":\"carol\",\"messages\":[{\"device\":1,\"registration_id\":7,"
	                    "\"type\":\"normal\",\"content\":\"YWJj\"},{\"device\":3,"
	                    "\"registration_id\":16380,\"type\":\"distribution\","
	                    "\"content\":\"//4=\"}]}");
	free(s);
	/* The same device twice is refused, as by the parser. */
	msgs[1].device = 1;
	assert_null(wire_build(&f, &len, NULL));

	memset(&f, 0, sizeof f);
	f.kind = WIRE_REQUEST;
	f.id = 13;
	f.type = WIRE_T_ACK;
	f.u.req.u.ack.ids = ids;
	f.u.req.u.ack.n_ids = 2;
	s = wire_build(&f, &len, NULL);
	assert_string_equal(s, "{\"id\":13,\"type\":\"ack\",\"ids\":[5,9007199254740991]}");
	free(s);
	ids[1]++; /* past 2^53 - 1 */
	assert_null(wire_build(&f, &len, NULL));

	memset(&f, 0, sizeof f);
	f.kind = WIRE_RESPONSE;
	f.id = 12;
	f.type = WIRE_T_SEND;
	f.u.resp.status = 200;
	f.u.resp.ts = 1764160000000;
	s = wire_build(&f, &len, NULL);
	assert_string_equal(s, "{\"id\":12,\"type\":\"send\",\"status\":200,\"ts\":1764160000000}");
	free(s);
	f.u.resp.ts = -1;
	assert_null(wire_build(&f, &len, NULL));
}

static void
test_largest_envelope_fits_in_a_frame(void **state)
{
	struct wire_frame f = {0};
	static uint8_t content[WIRE_MAX_CONTENT + 1];
	size_t len;
	char *s;
	(void)state;

	f.kind = WIRE_PUSH;
	f.push = WIRE_P_ENVELOPE;
	f.u.push.envelope.id = 9007199254740991ull;
	strcpy(f.u.push.envelope.from, "abcdefghijklmnopqrstuvwxyz012345");
	f.u.push.envelope.from_device = WIRE_DEVICE_MAX;
	f.u.push.envelope.from_registration_id = 16380;
	f.u.push.envelope.type = WIRE_MSG_DISTRIBUTION;
	f.u.push.envelope.ts = 9007199254740991ll;
	f.u.push.envelope.content = content;
	f.u.push.envelope.content_len = WIRE_MAX_CONTENT;
	s = wire_build(&f, &len, NULL);
	assert_non_null(s);
	assert_true(len <= WIRE_MAX_FRAME);
	free(s);
	f.u.push.envelope.content_len = WIRE_MAX_CONTENT + 1; /* one byte past the limit */
	assert_null(wire_build(&f, &len, NULL));
}

/* ---- refusals ---- */

static void
test_parse_refuses_garbage(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "}",
	    "[]",
	    "null",
	    "123",
	    "\"str\"",
	    "{\"id\":1,}",
	    "{'id':1}",
	    "{\"id\":1,\"type\":\"ping\"} trailing",
	    "\x01\x02\x03",
	    "{\"id\":1,\"type\":\"ping\"",
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refuse(bad[i], ERR_INVALID);
}

static void
test_parse_refuses_every_truncation_of_a_valid_frame(void **state)
{
	struct wire_frame f;
	struct err e;
	size_t len = strlen(auth_text), cut;
	(void)state;

	for (cut = 0; cut < len; cut++) {
		assert_int_equal(wire_parse(auth_text, cut, &f, &e), -1);
		assert_int_equal(e.code, ERR_INVALID);
	}
	accept_frame(auth_text, &f);
	wire_frame_free(&f);
}

static void
test_parse_refuses_oversized_frames(void **state)
{
	struct wire_frame f;
	struct err e;
	size_t len = WIRE_MAX_FRAME + 1;
	char *big = xmalloc(len);
	(void)state;

	memset(big, ' ', len);
	memcpy(big, auth_text, strlen(auth_text));
	assert_int_equal(wire_parse(big, len, &f, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	/* The same frame padded to exactly the limit is fine. */
	assert_int_equal(wire_parse(big, WIRE_MAX_FRAME, &f, &e), 0);
	wire_frame_free(&f);
	free(big);
}

static void
test_parse_refuses_deep_nesting(void **state)
{
	char buf[256];
	struct err e;
	size_t i, o = 0;
	(void)state;

	/* 16 levels (the frame object plus 15 arrays) are still parsed (and
	 * refused for their content); 17 are refused before jansson sees
	 * them. */
	o += (size_t)sprintf(buf + o, "{\"id\":1,\"type\":\"ack\",\"ids\":");
	for (i = 0; i < 15; i++)
		buf[o++] = '[';
	for (i = 0; i < 15; i++)
		buf[o++] = ']';
	buf[o++] = '}';
	buf[o] = '\0';
	e = refuse(buf, ERR_INVALID);
	assert_null(strstr(e.msg, "nested"));

	o = 0;
	o += (size_t)sprintf(buf + o, "{\"id\":1,\"type\":\"ack\",\"ids\":");
	for (i = 0; i < 16; i++)
		buf[o++] = '[';
	for (i = 0; i < 16; i++)
		buf[o++] = ']';
	buf[o++] = '}';
	buf[o] = '\0';
	e = refuse(buf, ERR_INVALID);
	assert_non_null(strstr(e.msg, "nested"));

	/* Brackets inside strings do not count. */
	{
		struct wire_frame f;
		accept_frame("{\"id\":1,\"type\":\"ping\",\"x\":\"[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"}",
		             &f);
		wire_frame_free(&f);
	}
}

static void
test_parse_refuses_invalid_utf8_and_nul(void **state)
{
	(void)state;
	/* A lone continuation byte, an overlong '/', a surrogate, and an
	 * escaped NUL, each inside an ignored member. */
	refuse("{\"id\":1,\"type\":\"ping\",\"x\":\"\x80\"}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ping\",\"x\":\"\xc0\xaf\"}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ping\",\"x\":\"\xed\xa0\x80\"}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ping\",\"x\":\"\\ud800\"}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ping\",\"x\":\"a\\u0000b\"}", ERR_INVALID);
}

static void
test_parse_refuses_duplicate_members(void **state)
{
	(void)state;
	refuse("{\"id\":1,\"type\":\"ping\",\"type\":\"ping\"}", ERR_INVALID);
}

static void
test_parse_refuses_unknown_types_and_pushes(void **state)
{
	struct err e;
	(void)state;

	e = refuse("{\"id\":1,\"type\":\"keys.steal\"}", ERR_INVALID);
	assert_non_null(strstr(e.msg, "unknown type"));
	refuse("{\"push\":\"surprise\"}", ERR_INVALID);
	refuse("{\"push\":7}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":7}", ERR_INVALID);
}

static void
test_parse_refuses_bad_ids_but_reports_a_readable_one(void **state)
{
	struct wire_frame f;
	struct err e;
	const char *t;
	(void)state;

	refuse("{\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":\"1\",\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":1.5,\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":-1,\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":0,\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":9007199254740992,\"type\":\"ping\"}", ERR_INVALID);
	refuse("{\"id\":99999999999999999999999,\"type\":\"ping\"}", ERR_INVALID);

	/* A bad member after a good id: the id and type stay for the answer. */
	t = "{\"id\":77,\"type\":\"device.remove\",\"device\":\"x\"}";
	assert_int_equal(wire_parse(t, strlen(t), &f, &e), -1);
	assert_int_equal(f.kind, WIRE_REQUEST);
	assert_int_equal(f.id, 77);
	assert_int_equal(f.type, WIRE_T_DEVICE_REMOVE);
	assert_non_null(strstr(e.msg, "\"device\""));
}

static void
test_parse_refuses_missing_and_mistyped_members(void **state)
{
	struct err e;
	(void)state;

	e = refuse("{\"id\":1,\"type\":\"auth\",\"account\":\"alice\",\"device\":1}", ERR_INVALID);
	assert_non_null(strstr(e.msg, "secret"));
	e = refuse("{\"id\":1,\"type\":\"auth\",\"account\":\"Alice\",\"device\":1,"
	           "\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
	           ERR_INVALID);
	assert_non_null(strstr(e.msg, "account"));
	refuse("{\"id\":1,\"type\":\"auth\",\"account\":\"alice\",\"device\":0,"
	       "\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
	       ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"auth\",\"account\":\"alice\",\"device\":true,"
	       "\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
	       ERR_INVALID);
	/* A 31-byte secret. */
	refuse("{\"id\":1,\"type\":\"auth\",\"account\":\"alice\",\"device\":1,"
	       "\"secret\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"}",
	       ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"device.remove\",\"device\":2147483648}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"keys.upload\"}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"keys.upload\",\"prekeys\":[]}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ack\",\"ids\":[1,0]}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ack\",\"ids\":{}}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ack\",\"ids\":[]}", ERR_INVALID);
}

static void
test_parse_refuses_keys_that_are_not_curve25519(void **state)
{
	struct err e;
	(void)state;

	/* 33 bytes whose type byte is 0x04. */
	e = refuse("{\"id\":1,\"type\":\"keys.upload\",\"prekeys\":[{\"id\":1,"
	           "\"public\":\"BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"}]}",
	           ERR_INVALID);
	assert_non_null(strstr(e.msg, "public"));
	/* Prekey id past 0xFFFFFF. */
	refuse("{\"id\":1,\"type\":\"keys.upload\",\"prekeys\":[{\"id\":16777216,"
	       "\"public\":\"BQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"}]}",
	       ERR_INVALID);
	/* The same id twice in one upload. */
	e = refuse("{\"id\":1,\"type\":\"keys.upload\",\"prekeys\":["
	           "{\"id\":1,\"public\":\"BQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"},"
	           "{\"id\":1,\"public\":\"BQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"}]}",
	           ERR_INVALID);
	assert_non_null(strstr(e.msg, "twice"));
}

static void
test_parse_refuses_lists_past_their_limits(void **state)
{
	char *buf;
	size_t o = 0, i;
	struct err e;
	(void)state;

	buf = xmalloc(64 * 1024);
	o += (size_t)sprintf(buf, "{\"id\":1,\"type\":\"keys.upload\",\"prekeys\":[");
	for (i = 0; i <= WIRE_MAX_PREKEYS; i++)
		o += (size_t)sprintf(buf + o,
		                     "%s{\"id\":%zu,\"public\":"
		                     "\"BQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"}",
		                     i ? "," : "", i);
	sprintf(buf + o, "]}");
	e = refuse(buf, ERR_TOOLARGE);
	assert_non_null(strstr(e.msg, "prekeys"));

	o = (size_t)sprintf(buf, "{\"id\":1,\"type\":\"ack\",\"ids\":[");
	for (i = 1; i <= WIRE_MAX_ACK + 1; i++)
		o += (size_t)sprintf(buf + o, "%s%zu", i > 1 ? "," : "", i);
	sprintf(buf + o, "]}");
	refuse(buf, ERR_TOOLARGE);
	free(buf);
}

static void
test_parse_refuses_bad_sends(void **state)
{
	struct err e;
	(void)state;

	/* Bad base64 in the content. */
	e = refuse(
	    "{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	    "\"messages\":[{\"device\":1,\"registration_id\":5,\"type\":\"normal\","
	    "\"content\":\"@@@@\"}]}",
	    ERR_INVALID);
	assert_non_null(strstr(e.msg, "messages[0]"));
	/* Empty content. */
	refuse("{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	       "\"messages\":[{\"device\":1,\"registration_id\":5,\"type\":\"normal\","
	       "\"content\":\"\"}]}",
	       ERR_INVALID);
	/* Unknown message type. */
	refuse("{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	       "\"messages\":[{\"device\":1,\"registration_id\":5,\"type\":\"whisper\","
	       "\"content\":\"AA==\"}]}",
	       ERR_INVALID);
	/* Registration id out of range. */
	refuse("{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	       "\"messages\":[{\"device\":1,\"registration_id\":16381,\"type\":\"normal\","
	       "\"content\":\"AA==\"}]}",
	       ERR_INVALID);
	/* The same device twice. */
	e = refuse(
	    "{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	    "\"messages\":[{\"device\":1,\"registration_id\":5,\"type\":\"normal\","
	    "\"content\":\"AA==\"},{\"device\":1,\"registration_id\":5,\"type\":\"normal\","
	    "\"content\":\"AA==\"}]}",
	    ERR_INVALID);
	assert_non_null(strstr(e.msg, "twice"));
	/* Bad msg_id. */
	refuse("{\"id\":1,\"type\":\"send\",\"to\":\"bob\",\"msg_id\":\"hello\",\"messages\":[]}",
	       ERR_INVALID);
	/* The same account twice in send.multi. */
	refuse("{\"id\":1,\"type\":\"send.multi\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	       "\"sends\":[{\"to\":\"bob\",\"messages\":[]},{\"to\":\"bob\",\"messages\":[]}]}",
	       ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"send.multi\",\"msg_id\":\"3q2+7wAAAAAAAAAAAAAAAA==\","
	       "\"sends\":[]}",
	       ERR_INVALID);
}

static void
test_parse_refuses_bad_responses(void **state)
{
	(void)state;
	refuse("{\"id\":1,\"type\":\"ping\",\"status\":302}", ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"ping\",\"status\":404}", ERR_INVALID); /* no error */
	refuse("{\"id\":1,\"type\":\"ping\",\"status\":404,\"error\":\"Not Found\","
	       "\"message\":\"x\"}",
	       ERR_INVALID);
	refuse("{\"id\":0,\"status\":200}", ERR_INVALID);
	refuse("{\"id\":0,\"type\":\"ping\",\"status\":400,\"error\":\"bad_request\","
	       "\"message\":\"x\"}",
	       ERR_INVALID);
	/* A 409 to a send needs its lists. */
	refuse("{\"id\":1,\"type\":\"send\",\"status\":409,\"error\":\"mismatched_devices\","
	       "\"message\":\"x\",\"missing\":[]}",
	       ERR_INVALID);
	refuse("{\"id\":1,\"type\":\"keys.count\",\"status\":200}", ERR_INVALID);
}

static void
test_parse_ignores_unknown_members(void **state)
{
	struct wire_frame f;
	(void)state;

	accept_frame("{\"id\":4,\"type\":\"ping\",\"future\":{\"a\":[1,2,3]},\"z\":null}", &f);
	assert_int_equal(f.kind, WIRE_REQUEST);
	assert_int_equal(f.type, WIRE_T_PING);
	assert_int_equal(f.id, 4);
	wire_frame_free(&f);
	accept_frame("{\"push\":\"queue.empty\",\"extra\":1}", &f);
	assert_int_equal(f.push, WIRE_P_QUEUE_EMPTY);
	wire_frame_free(&f);
}

/* ---- builders ---- */

static void
test_build_refuses_invalid_frames(void **state)
{
	struct wire_frame f = {0};
	struct wire_send sends[2];
	struct err e = {0};
	(void)state;

	f.kind = WIRE_REQUEST;
	f.id = 1;
	f.type = WIRE_T_AUTH;
	strcpy(f.u.req.u.auth.account, "Not-A-Name");
	f.u.req.u.auth.device = 1;
	assert_null(wire_build(&f, NULL, &e));
	assert_int_equal(e.code, ERR_INVALID);

	strcpy(f.u.req.u.auth.account, "alice");
	f.u.req.u.auth.device = 0;
	assert_null(wire_build(&f, NULL, &e));

	f.u.req.u.auth.device = 1;
	f.id = 0; /* requests need an id */
	assert_null(wire_build(&f, NULL, &e));

	memset(&f, 0, sizeof f);
	memset(sends, 0, sizeof sends);
	strcpy(sends[0].to, "bob");
	strcpy(sends[1].to, "carol");
	f.kind = WIRE_REQUEST;
	f.id = 2;
	f.type = WIRE_T_SEND; /* a send carries exactly one recipient */
	strcpy(f.u.req.u.send.msg_id, "3q2+7wAAAAAAAAAAAAAAAA==");
	f.u.req.u.send.sends = sends;
	f.u.req.u.send.n_sends = 2;
	assert_null(wire_build(&f, NULL, &e));

	f.type = (enum wire_type)99;
	assert_null(wire_build(&f, NULL, &e));
	f.kind = (enum wire_kind)0;
	assert_null(wire_build(&f, NULL, &e));
}

static void
test_build_error_sanitises_and_truncates_the_message(void **state)
{
	struct wire_frame f;
	struct err e = {0};
	char msg[600];
	size_t len, i;
	char *s;
	(void)state;

	/* Two-byte characters so that truncation lands mid-character. */
	for (i = 0; i + 2 < sizeof msg; i += 2) {
		msg[i] = (char)0xc3;
		msg[i + 1] = (char)0xa9;
	}
	msg[i] = '\0';
	s = wire_build_error(5, WIRE_T_KEYS_FETCH, 429, NULL, msg, 2500, &len);
	assert_int_equal(wire_parse(s, len, &f, &e), 0);
	assert_int_equal(f.id, 5);
	assert_int_equal(f.type, WIRE_T_KEYS_FETCH);
	assert_int_equal(f.u.resp.status, 429);
	assert_string_equal(f.u.resp.error, "rate_limited");
	assert_int_equal(f.u.resp.retry_after_ms, 2500);
	assert_true(strlen(f.u.resp.message) <= WIRE_MESSAGE_MAX);
	assert_int_equal(strlen(f.u.resp.message) % 2, 0);
	wire_frame_free(&f);
	free(s);

	s = wire_build_error(0, WIRE_T_NONE, 400, "bad_request", "bad \xff byte\x1b[31m", -1, &len);
	assert_int_equal(wire_parse(s, len, &f, &e), 0);
	assert_string_equal(f.u.resp.message, "bad ? byte?[31m");
	assert_int_equal(f.u.resp.has_retry_after, 0);
	assert_int_equal(f.type, WIRE_T_NONE);
	wire_frame_free(&f);
	free(s);
}

/* ---- HTTP auth header ---- */

static void
test_http_auth_header_roundtrips(void **state)
{
	uint8_t secret[WIRE_SECRET_LEN], back[WIRE_SECRET_LEN];
	char account[WIRE_NAME_MAX + 1];
	uint32_t device = 0;
	char *h;
	(void)state;

	fill(secret, sizeof secret, 5);
	h = wire_http_auth_build("bob.smith", 12, secret);
	assert_int_equal(wire_http_auth_parse(h, account, &device, back, NULL), 0);
	assert_string_equal(account, "bob.smith");
	assert_int_equal(device, 12);
	assert_memory_equal(back, secret, sizeof secret);
	wipe_free_str(h);
}

static void
test_http_auth_header_refuses_malformed_values(void **state)
{
	static const char *const bad[] = {
	    "Basic YWxpY2U6cHc=",
	    "Sotto alice:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto .1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto Alice.1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.0:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.1x:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.99999999999:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "Sotto alice.1:AAEC",
	    "Sotto alice.1",
	    "Sotto alice.1: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	uint8_t secret[WIRE_SECRET_LEN];
	char account[WIRE_NAME_MAX + 1];
	uint32_t device;
	struct err e = {0};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (wire_http_auth_parse(bad[i], account, &device, secret, &e) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, ERR_AUTH);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64_matches_rfc4648_vectors),
	    cmocka_unit_test(test_b64_rejects_non_canonical_input),
	    cmocka_unit_test(test_b64_refuses_each_byte_outside_the_alphabet_where_it_stands),
	    cmocka_unit_test(test_b64_decode_exact_refuses_wrong_length),
	    cmocka_unit_test(test_b64url_roundtrips_blob_ids_without_padding),
	    cmocka_unit_test(test_names_follow_the_page_syntax),
	    cmocka_unit_test(test_msg_ids_are_base64_16_or_uuid),
	    cmocka_unit_test(test_name_tables_are_inverse),
	    cmocka_unit_test(test_auth_roundtrips_and_keeps_secret),
	    cmocka_unit_test(test_register_roundtrips_with_and_without_token),
	    cmocka_unit_test(test_simple_requests_roundtrip),
	    cmocka_unit_test(test_keys_upload_and_fetch_roundtrip),
	    cmocka_unit_test(test_send_and_send_multi_roundtrip),
	    cmocka_unit_test(test_ack_roundtrips),
	    cmocka_unit_test(test_success_responses_roundtrip),
	    cmocka_unit_test(test_error_responses_roundtrip_with_mismatch_lists),
	    cmocka_unit_test(test_pushes_roundtrip),
	    cmocka_unit_test(test_direct_reading_agrees_with_jansson),
	    cmocka_unit_test(test_direct_reading_refuses_what_jansson_refuses),
	    cmocka_unit_test(test_per_message_frames_have_the_exact_text),
	    cmocka_unit_test(test_largest_envelope_fits_in_a_frame),
	    cmocka_unit_test(test_parse_refuses_garbage),
	    cmocka_unit_test(test_parse_refuses_every_truncation_of_a_valid_frame),
	    cmocka_unit_test(test_parse_refuses_oversized_frames),
	    cmocka_unit_test(test_parse_refuses_deep_nesting),
	    cmocka_unit_test(test_parse_refuses_invalid_utf8_and_nul),
	    cmocka_unit_test(test_parse_refuses_duplicate_members),
	    cmocka_unit_test(test_parse_refuses_unknown_types_and_pushes),
	    cmocka_unit_test(test_parse_refuses_bad_ids_but_reports_a_readable_one),
	    cmocka_unit_test(test_parse_refuses_missing_and_mistyped_members),
	    cmocka_unit_test(test_parse_refuses_keys_that_are_not_curve25519),
	    cmocka_unit_test(test_parse_refuses_lists_past_their_limits),
	    cmocka_unit_test(test_parse_refuses_bad_sends),
	    cmocka_unit_test(test_parse_refuses_bad_responses),
	    cmocka_unit_test(test_parse_ignores_unknown_members),
	    cmocka_unit_test(test_build_refuses_invalid_frames),
	    cmocka_unit_test(test_build_error_sanitises_and_truncates_the_message),
	    cmocka_unit_test(test_http_auth_header_roundtrips),
	    cmocka_unit_test(test_http_auth_header_refuses_malformed_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
