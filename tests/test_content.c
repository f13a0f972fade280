/* Tests for src/content: the padded content JSON of every envelope, its
 * round trips and its strict decoding of whatever a peer might send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "crypto/pad.h"

#define ID1 "3q2+7wAAAAAAAAAAAAAAAA=="
#define ID2 "AAECAwQFBgcICQoLDA0ODw=="
#define UUID "123e4567-e89b-12d3-a456-426614174000"

static void
round_trip(const struct content *in, struct content *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct err e;

	assert_int_equal(content_encode(in, &buf, &len, &e), 0);
	assert_int_equal(len % PAD_BLOCK, 0);
	assert_int_equal(content_decode(buf, len, out, &e), 0);
	free(buf);
}

/* Parse JSON text that must be refused with code. */
static void
assert_refused(const char *json, enum err_code code)
{
	struct content c;
	struct err e;

	memset(&c, 0x5a, sizeof c);
	assert_int_equal(content_parse(json, strlen(json), &c, &e), -1);
	assert_int_equal(e.code, code);
	/* Nothing left allocated: the struct is zeroed. */
	assert_null(c.id);
	assert_null(c.body);
	assert_null(c.ids);
}

static void
test_content_text_round_trips_with_utf8_body(void **state)
{
	struct content in = {.kind = CONTENT_TEXT,
	                     .id = ID1,
	                     .ts = 1764160000000LL,
	                     .body = "h\xc3\xa9llo \xf0\x9f\x98\x80 \"quoted\"\n\ttab"};
	struct content out;

	(void)state;
	round_trip(&in, &out);
	assert_int_equal(out.kind, CONTENT_TEXT);
	assert_string_equal(out.kind_name, "text");
	assert_int_equal(out.version, 1);
	assert_string_equal(out.id, ID1);
	assert_int_equal(out.ts, 1764160000000LL);
	assert_string_equal(out.body, in.body);
	assert_null(out.sent_to);
	assert_int_equal(out.expire_s, 0);
	content_clear(&out);
}

static void
test_content_text_keeps_sent_to_and_reserved_members(void **state)
{
	struct content in = {.kind = CONTENT_TEXT,
	                     .id = UUID,
	                     .ts = 5,
	                     .body = "",
	                     .sent_to = "bob",
	                     .group = "{\"id\":\"AAAA\",\"rev\":2}",
	                     .attachments = "[{\"blob\":\"x\"}]",
	                     .quote = "{\"id\":\"" ID2 "\"}",
	                     .expire_s = 3600};
	struct content out;

	(void)state;
	round_trip(&in, &out);
	assert_string_equal(out.body, "");
	assert_string_equal(out.sent_to, "bob");
	assert_string_equal(out.group, "{\"id\":\"AAAA\",\"rev\":2}");
	assert_string_equal(out.attachments, "[{\"blob\":\"x\"}]");
	assert_string_equal(out.quote, "{\"id\":\"" ID2 "\"}");
	assert_int_equal(out.expire_s, 3600);
	content_clear(&out);
}

static void
test_content_receipt_round_trips_its_ids(void **state)
{
	char *ids[] = {ID1, ID2, UUID};
	struct content in = {.kind = CONTENT_RECEIPT,
	                     .id = ID2,
	                     .ts = 7,
	                     .receipt = CONTENT_RECEIPT_READ,
	                     .ids = ids,
	                     .n_ids = 3};
	struct content out;
	size_t i;

	(void)state;
	round_trip(&in, &out);
	assert_int_equal(out.kind, CONTENT_RECEIPT);
	assert_int_equal(out.receipt, CONTENT_RECEIPT_READ);
	assert_int_equal(out.n_ids, 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(out.ids[i], ids[i]);
	content_clear(&out);
}

static void
test_content_repair_round_trips_with_and_without_ids(void **state)
{
	uint64_t eids[] = {41, 9007199254740991ULL};
	struct content in = {
	    .kind = CONTENT_REPAIR, .id = ID1, .ts = 1, .envelope_ids = eids, .n_envelope_ids = 2};
	struct content out;

	(void)state;
	round_trip(&in, &out);
	assert_int_equal(out.kind, CONTENT_REPAIR);
	assert_int_equal(out.n_envelope_ids, 2);
	assert_true(out.envelope_ids[1] == eids[1]);
	content_clear(&out);
	in.n_envelope_ids = 0;
	round_trip(&in, &out);
	assert_int_equal(out.kind, CONTENT_REPAIR);
	assert_int_equal(out.n_envelope_ids, 0);
	content_clear(&out);
}

static void
test_content_body_of_64k_fits_and_one_more_byte_is_refused(void **state)
{
	char *body = malloc(CONTENT_BODY_MAX + 2);
	struct content in = {.kind = CONTENT_TEXT, .id = ID1, .ts = 1, .body = body};
	struct content out;
	uint8_t *buf = NULL;
	size_t len;
	struct err e;

	(void)state;
	memset(body, 'x', CONTENT_BODY_MAX);
	body[CONTENT_BODY_MAX] = '\0';
	round_trip(&in, &out);
	assert_int_equal(strlen(out.body), CONTENT_BODY_MAX);
	content_clear(&out);
	body[CONTENT_BODY_MAX] = 'x';
	body[CONTENT_BODY_MAX + 1] = '\0';
	assert_int_equal(content_encode(&in, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	assert_null(buf);
	free(body);
}

static void
test_content_encode_refuses_bad_members(void **state)
{
	char *bad_ids[] = {"not an id"};
	struct content c = {.kind = CONTENT_TEXT, .id = "short", .ts = 1, .body = "x"};
	uint8_t *buf = NULL;
	size_t len;
	struct err e;

	(void)state;
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	c.id = ID1;
	c.body = "\xff\xfe";
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	c.body = "x";
	c.sent_to = "Bob!";
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1);
	c.sent_to = NULL;
	c.kind = CONTENT_RECEIPT;
	c.receipt = CONTENT_RECEIPT_DELIVERED;
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1); /* no ids */
	c.ids = bad_ids;
	c.n_ids = 1;
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1);
	c.kind = CONTENT_UNKNOWN;
	assert_int_equal(content_encode(&c, &buf, &len, &e), -1);
	assert_null(buf);
}

static void
test_content_unknown_kind_is_reported_not_refused(void **state)
{
	const char *json = "{\"v\":1,\"kind\":\"typing\",\"whatever\":[1,2]}";
	struct content c;
	struct err e;

	(void)state;
	assert_int_equal(content_parse(json, strlen(json), &c, &e), 0);
	assert_int_equal(c.kind, CONTENT_UNKNOWN);
	assert_string_equal(c.kind_name, "typing");
	content_clear(&c);
}

static void
test_content_newer_version_is_ignored_whatever_it_holds(void **state)
{
	const char *json = "{\"v\":2,\"kind\":\"text\",\"body\":17}";
	struct content c;
	struct err e;

	(void)state;
	assert_int_equal(content_parse(json, strlen(json), &c, &e), 0);
	assert_int_equal(c.kind, CONTENT_UNKNOWN);
	assert_int_equal(c.version, 2);
	content_clear(&c);
}

static void
test_content_unknown_members_are_ignored(void **state)
{
	const char *json = "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3,"
	                   "\"body\":\"hi\",\"future\":{\"x\":1}}";
	struct content c;
	struct err e;

	(void)state;
	assert_int_equal(content_parse(json, strlen(json), &c, &e), 0);
	assert_int_equal(c.kind, CONTENT_TEXT);
	assert_string_equal(c.body, "hi");
	content_clear(&c);
}

static void
test_content_parse_refuses_garbage(void **state)
{
	(void)state;
	assert_refused("", ERR_INVALID);
	assert_refused("not json", ERR_INVALID);
	assert_refused("[1,2]", ERR_INVALID);
	assert_refused("\"text\"", ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3,\"body\":\"a\"} x",
	               ERR_INVALID);
	/* version */
	assert_refused("{\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3,\"body\":\"a\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":0,\"kind\":\"text\"}", ERR_INVALID);
	assert_refused("{\"v\":\"1\",\"kind\":\"text\"}", ERR_INVALID);
	assert_refused("{\"v\":1.0,\"kind\":\"text\"}", ERR_INVALID);
	assert_refused("{\"v\":-1,\"kind\":\"text\"}", ERR_INVALID);
	/* kind */
	assert_refused("{\"v\":1}", ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"\"}", ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":7}", ERR_INVALID);
	/* id and ts */
	assert_refused("{\"v\":1,\"kind\":\"text\",\"ts\":3,\"body\":\"a\"}", ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"x\",\"ts\":3,\"body\":\"a\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"body\":\"a\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":-3,\"body\":\"a\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":9007199254740992,\"body\":\"a\"}",
	               ERR_INVALID);
	/* body */
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3}", ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3,\"body\":null}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\\u0000b\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\",\"body\":\"b\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\",\"sent_to\":\"NOPE\"}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\",\"group\":[1]}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\",\"attachments\":{}}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"a\",\"expire_s\":-1}",
	               ERR_INVALID);
	/* receipts */
	assert_refused("{\"v\":1,\"kind\":\"receipt\",\"id\":\"" ID1
	               "\",\"ts\":3,\"receipt\":\"seen\",\"ids\":[\"" ID2 "\"]}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"receipt\",\"id\":\"" ID1
	               "\",\"ts\":3,\"receipt\":\"read\",\"ids\":[]}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"receipt\",\"id\":\"" ID1
	               "\",\"ts\":3,\"receipt\":\"read\",\"ids\":[\"" ID2 "\",5]}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"receipt\",\"id\":\"" ID1
	               "\",\"ts\":3,\"receipt\":\"read\"}",
	               ERR_INVALID);
	/* repair */
	assert_refused("{\"v\":1,\"kind\":\"repair\",\"id\":\"" ID1 "\",\"ts\":3,\"ids\":[0]}",
	               ERR_INVALID);
	assert_refused("{\"v\":1,\"kind\":\"repair\",\"id\":\"" ID1 "\",\"ts\":3,\"ids\":\"1\"}",
	               ERR_INVALID);
}

static void
test_content_parse_refuses_invalid_utf8(void **state)
{
	(void)state;
	assert_refused("{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	               "\",\"ts\":3,\"body\":\"\xc3\x28\"}",
	               ERR_INVALID);
}

static void
test_content_body_over_64k_from_a_peer_is_too_large(void **state)
{
	const char *head = "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":3,\"body\":\"";
	size_t n = strlen(head) + CONTENT_BODY_MAX + 1 + 3;
	char *json = malloc(n + 1);
	struct content c;
	struct err e;

	(void)state;
	strcpy(json, head);
	memset(json + strlen(head), 'y', CONTENT_BODY_MAX + 1);
	strcpy(json + strlen(head) + CONTENT_BODY_MAX + 1, "\"}");
	assert_int_equal(content_parse(json, strlen(json), &c, &e), -1);
	assert_int_equal(e.code, ERR_TOOLARGE);
	free(json);
}

static void
test_content_too_many_receipt_ids_are_refused(void **state)
{
	size_t n = CONTENT_IDS_MAX + 1, i;
	char *json = malloc(256 + n * 32), *p;
	struct content c;
	struct err e;

	(void)state;
	p = json + sprintf(json,
	                   "{\"v\":1,\"kind\":\"receipt\",\"id\":\"%s\",\"ts\":1,"
	                   "\"receipt\":\"read\",\"ids\":[",
	                   ID1);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"%s\"", i ? "," : "", ID2);
	strcpy(p, "]}");
	assert_int_equal(content_parse(json, strlen(json), &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	free(json);
}

static void
test_content_decode_refuses_bad_padding(void **state)
{
	const char *json = "{\"v\":1,\"kind\":\"typing\"}";
	uint8_t buf[PAD_BLOCK];
	struct content c;
	struct err e;

	(void)state;
	/* No 0x80 marker. */
	memset(buf, 0, sizeof buf);
	memcpy(buf, json, strlen(json));
	assert_int_equal(content_decode(buf, sizeof buf, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	/* All zero, and empty. */
	memset(buf, 0, sizeof buf);
	assert_int_equal(content_decode(buf, sizeof buf, &c, &e), -1);
	assert_int_equal(content_decode(buf, 0, &c, &e), -1);
	/* Marker right at the start: empty content. */
	buf[0] = 0x80;
	assert_int_equal(content_decode(buf, sizeof buf, &c, &e), -1);
	/* With the marker it is fine. */
	memcpy(buf, json, strlen(json));
	buf[strlen(json)] = 0x80;
	assert_int_equal(content_decode(buf, sizeof buf, &c, &e), 0);
	assert_int_equal(c.kind, CONTENT_UNKNOWN);
	content_clear(&c);
}

/* Random bytes behind a valid pad must never crash or leak. */
static void
test_content_decode_survives_random_bytes(void **state)
{
	uint8_t buf[4 * PAD_BLOCK];
	unsigned seed = 12345;
	struct content c;
	struct err e;
	size_t len, i;
	int round, r;

	(void)state;
	for (round = 0; round < 2000; round++) {
		len = (size_t)(rand_r(&seed) % (int)sizeof buf) + 1;
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		if (round % 2 == 0) {
			/* Mostly JSON-ish characters, padded correctly. */
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t) "{}[]\":,01vkindtexy "[buf[i] % 19];
			buf[len - 1] = 0x80;
		}
		r = content_decode(buf, len, &c, &e);
		if (r == 0)
			content_clear(&c);
		else
			assert_true(e.code == ERR_INVALID || e.code == ERR_TOOLARGE);
	}
}

/* The texts content_encode() writes are read without a jansson tree; a
 * trailing space sends the same text to the generic reader instead. Both
 * must read the same thing. */
static void
parse_both_ways(const char *json, struct content *fast, struct content *slow)
{
	char *spaced = malloc(strlen(json) + 2);
	struct err e;

	assert_non_null(spaced);
	sprintf(spaced, "%s ", json);
	assert_int_equal(content_parse(json, strlen(json), fast, &e), 0);
	assert_int_equal(content_parse(spaced, strlen(spaced), slow, &e), 0);
	free(spaced);
}

static void
test_content_fast_spelling_reads_like_generic(void **state)
{
	static const char *const texts[] = {
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1
	    "\",\"ts\":1700000000123,\"body\":\"hi there\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" UUID "\",\"ts\":0,\"body\":\"\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID2 "\",\"ts\":9007199254740991,"
	    "\"body\":\"~!@#$%^&*()_+{}|:<>?\",\"sent_to\":\"carol.b-2\"}",
	};
	struct content fast, slow;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		parse_both_ways(texts[i], &fast, &slow);
		assert_int_equal(fast.kind, CONTENT_TEXT);
		assert_int_equal(fast.kind, slow.kind);
		assert_string_equal(fast.kind_name, slow.kind_name);
		assert_int_equal(fast.version, slow.version);
		assert_string_equal(fast.id, slow.id);
		assert_int_equal(fast.ts, slow.ts);
		assert_string_equal(fast.body, slow.body);
		if (slow.sent_to == NULL)
			assert_null(fast.sent_to);
		else
			assert_string_equal(fast.sent_to, slow.sent_to);
		assert_int_equal(fast.expire_s, slow.expire_s);
		assert_null(fast.group);
		content_clear(&fast);
		content_clear(&slow);
	}
}

static void
test_content_fast_spelling_refuses_what_generic_refuses(void **state)
{
	static const char *const bad[] = {
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":9007199254740992,\"body\":\"x\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":012,\"body\":\"x\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"not-an-id\",\"ts\":1,\"body\":\"x\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":1,\"body\":\"x\","
	    "\"sent_to\":\"Not A Name\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":1,\"body\":\"a\x01z\"}",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":1,\"body\":\"x\"",
	    "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":1,\"body\":\"x\"}}",
	};
	char spaced[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_refused(bad[i], ERR_INVALID);
		snprintf(spaced, sizeof spaced, "%s ", bad[i]);
		assert_refused(spaced, ERR_INVALID);
	}
}

static void
test_content_fast_spelling_reads_the_body_limit_exactly(void **state)
{
	const char *head = "{\"v\":1,\"kind\":\"text\",\"id\":\"" ID1 "\",\"ts\":1,\"body\":\"";
	size_t hl = strlen(head), n;
	struct content c;
	struct err e;
	char *json = malloc(hl + CONTENT_BODY_MAX + 4);

	(void)state;
	assert_non_null(json);
	for (n = CONTENT_BODY_MAX; n <= CONTENT_BODY_MAX + 1; n++) {
		memcpy(json, head, hl);
		memset(json + hl, 'a', n);
		memcpy(json + hl + n, "\"}", 3);
		if (n == CONTENT_BODY_MAX) {
			assert_int_equal(content_parse(json, strlen(json), &c, &e), 0);
			assert_int_equal(strlen(c.body), CONTENT_BODY_MAX);
			content_clear(&c);
		} else {
			assert_int_equal(content_parse(json, strlen(json), &c, &e), -1);
			assert_null(c.body);
		}
	}
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_text_round_trips_with_utf8_body),
	    cmocka_unit_test(test_content_text_keeps_sent_to_and_reserved_members),
	    cmocka_unit_test(test_content_receipt_round_trips_its_ids),
	    cmocka_unit_test(test_content_repair_round_trips_with_and_without_ids),
	    cmocka_unit_test(test_content_body_of_64k_fits_and_one_more_byte_is_refused),
	    cmocka_unit_test(test_content_encode_refuses_bad_members),
	    cmocka_unit_test(test_content_unknown_kind_is_reported_not_refused),
	    cmocka_unit_test(test_content_newer_version_is_ignored_whatever_it_holds),
	    cmocka_unit_test(test_content_unknown_members_are_ignored),
	    cmocka_unit_test(test_content_parse_refuses_garbage),
	    cmocka_unit_test(test_content_parse_refuses_invalid_utf8),
	    cmocka_unit_test(test_content_body_over_64k_from_a_peer_is_too_large),
	    cmocka_unit_test(test_content_too_many_receipt_ids_are_refused),
	    cmocka_unit_test(test_content_decode_refuses_bad_padding),
	    cmocka_unit_test(test_content_decode_survives_random_bytes),
	    cmocka_unit_test(test_content_fast_spelling_reads_like_generic),
	    cmocka_unit_test(test_content_fast_spelling_refuses_what_generic_refuses),
	    cmocka_unit_test(test_content_fast_spelling_reads_the_body_limit_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
