/* Known-answer tests for the OpenSSL crypto provider handed to libsignal:
 * HMAC-SHA256 (RFC 4231), SHA-512 (FIPS 180-2), AES-256 CBC and CTR
 * (NIST SP 800-38A), driven through the provider's own callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/cprov.h"

struct fixture {
	signal_context *ctx;
	signal_crypto_provider p;
};

/* Decode a hex string into a fresh buffer; the test owns it (free()). */
static uint8_t *
hex(const char *s, size_t *len_out)
{
	size_t n = strlen(s) / 2, i;
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	if (len_out != NULL)
		*len_out = n;
	return b;
}

static void
assert_buffer_hex(signal_buffer *buf, const char *expect)
{
	size_t n;
	uint8_t *want = hex(expect, &n);
	assert_int_equal(signal_buffer_len(buf), n);
	assert_memory_equal(signal_buffer_data(buf), want, n);
	free(want);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err e;
	if (f == NULL || cprov_context_create(&f->ctx, &e) != 0)
		return -1;
	if (cprov_get_provider(f->ctx, &f->p) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	cprov_context_destroy(f->ctx);
	free(f);
	return 0;
}

/* Run one HMAC through init/update/final/cleanup, feeding data in two
 * pieces so incremental updates are exercised too. */
static void
check_hmac(struct fixture *f, const uint8_t *key, size_t key_len, const uint8_t *data,
           size_t data_len, const char *expect)
{
	void *hctx = NULL;
	signal_buffer *out = NULL;
	size_t half = data_len / 2;

	assert_int_equal(f->p.hmac_sha256_init_func(&hctx, key, key_len, f->p.user_data), 0);
	assert_int_equal(f->p.hmac_sha256_update_func(hctx, data, half, f->p.user_data), 0);
	assert_int_equal(
	    f->p.hmac_sha256_update_func(hctx, data + half, data_len - half, f->p.user_data), 0);
	assert_int_equal(f->p.hmac_sha256_final_func(hctx, &out, f->p.user_data), 0);
	f->p.hmac_sha256_cleanup_func(hctx, f->p.user_data);
	assert_buffer_hex(out, expect);
	signal_buffer_free(out);
}

static void
test_cprov_hmac_sha256_matches_rfc4231(void **state)
{
	struct fixture *f = *state;
	uint8_t key[131], data[50];
	const char *big_key_msg = "Test Using Larger Than Block-Size Key - Hash Key First";
	const char *big_both_msg =
	    "This is a test using a larger than block-size key and a larger than block-size "
	    "data. The key needs to be hashed before being used by the HMAC algorithm.";
	size_t i;

	/* Case 1 */
	memset(key, 0x0b, 20);
	check_hmac(f, key, 20, (const uint8_t *)"Hi There", 8,
	           "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Case 2 */
	check_hmac(f, (const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?",
	           28, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Case 3 */
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	check_hmac(f, key, 20, data, 50,
	           "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* Case 4 */
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	check_hmac(f, key, 25, data, 50,
	           "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	/* Case 6 */
	memset(key, 0xaa, 131);
	check_hmac(f, key, 131, (const uint8_t *)big_key_msg, strlen(big_key_msg),
	           "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* Case 7 */
	check_hmac(f, key, 131, (const uint8_t *)big_both_msg, strlen(big_both_msg),
	           "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void
test_cprov_hmac_accepts_empty_key(void **state)
{
	struct fixture *f = *state;
	/* HMAC-SHA256 with empty key over the empty message. */
	check_hmac(f, NULL, 0, (const uint8_t *)"", 0,
	           "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static const char SHA512_ABC[] = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                                 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

static void
check_sha512(struct fixture *f, const char *msg, const char *expect)
{
	void *dctx = NULL;
	signal_buffer *out = NULL;

	assert_int_equal(f->p.sha512_digest_init_func(&dctx, f->p.user_data), 0);
	assert_int_equal(
	    f->p.sha512_digest_update_func(dctx, (const uint8_t *)msg, strlen(msg), f->p.user_data),
	    0);
	assert_int_equal(f->p.sha512_digest_final_func(dctx, &out, f->p.user_data), 0);
	f->p.sha512_digest_cleanup_func(dctx, f->p.user_data);
	assert_buffer_hex(out, expect);
	signal_buffer_free(out);
}

static void
test_cprov_sha512_matches_fips180_2(void **state)
{
	struct fixture *f = *state;

	check_sha512(f, "abc", SHA512_ABC);
	check_sha512(f, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	             "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
	             "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
	check_sha512(f,
	             "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	             "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	             "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
	             "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

/* The fingerprint code hashes thousands of rounds through one context:
 * final must leave it reset, not finished or still holding old input. */
static void
test_cprov_sha512_context_reusable_after_final(void **state)
{
	struct fixture *f = *state;
	void *dctx = NULL;
	signal_buffer *a = NULL, *b = NULL;
	int round;

	assert_int_equal(f->p.sha512_digest_init_func(&dctx, f->p.user_data), 0);
	for (round = 0; round < 2; round++) {
		signal_buffer **out = round == 0 ? &a : &b;
		assert_int_equal(
		    f->p.sha512_digest_update_func(dctx, (const uint8_t *)"ab", 2, f->p.user_data),
		    0);
		assert_int_equal(
		    f->p.sha512_digest_update_func(dctx, (const uint8_t *)"c", 1, f->p.user_data),
		    0);
		assert_int_equal(f->p.sha512_digest_final_func(dctx, out, f->p.user_data), 0);
	}
	f->p.sha512_digest_cleanup_func(dctx, f->p.user_data);
	assert_buffer_hex(a, SHA512_ABC);
	assert_buffer_hex(b, SHA512_ABC);
	signal_buffer_free(a);
	signal_buffer_free(b);
}

static const char AES256_KEY[] = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char SP800_38A_PT[] = "6bc1bee22e409f96e93d7e117393172a"
                                   "ae2d8a571e03ac9c9eb76fac45af8e51"
                                   "30c81c46a35ce411e5fbc1191a0a52ef"
                                   "f69f2445df4f9b17ad2b417be66c3710";
static const char CBC_IV[] = "000102030405060708090a0b0c0d0e0f";
static const char CBC_CT[] = "f58c4c04d6e5f1ba779eabfb5f7bfbd6"
                             "9cfc4e967edb808d679f777bc6702c7d"
                             "39f23369a9d9bacfa530e26304231461"
                             "b2eb05e2c39be9fcda6c19078c6a9d1b";
static const char CTR_IV[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
static const char CTR_CT[] = "601ec313775789a5b7a7f504bbf3d228"
                             "f443e3ca4d62b59aca84e990cacaf5c5"
                             "2b0930daa23de94ce87017ba2d84988d"
                             "dfc9c58db67aada613c2dd08457941a6";

/* AES-256-ECB of one block, independently of the provider, to predict the
 * PKCS#7 padding block that follows the NIST vector. */
static void
ecb_encrypt_block(const uint8_t *key, const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, 16), 1);
	assert_int_equal(n, 16);
	EVP_CIPHER_CTX_free(c);
}

/* F.2.5 through the PKCS#7 callback: the four vector blocks, then one block
 * of padding (16 x 0x10) chained on the last ciphertext block. */
static void
test_cprov_aes256_cbc_encrypt_matches_sp800_38a_then_pads(void **state)
{
	struct fixture *f = *state;
	size_t klen, ivlen, ptlen, ctlen, i;
	uint8_t *key = hex(AES256_KEY, &klen), *iv = hex(CBC_IV, &ivlen);
	uint8_t *pt = hex(SP800_38A_PT, &ptlen), *ct = hex(CBC_CT, &ctlen);
	uint8_t pad_in[16], pad_out[16];
	signal_buffer *out = NULL;

	assert_int_equal(f->p.encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, klen, iv, ivlen, pt,
	                                   ptlen, f->p.user_data),
	                 0);
	assert_int_equal(signal_buffer_len(out), ctlen + 16);
	assert_memory_equal(signal_buffer_data(out), ct, ctlen);
	for (i = 0; i < 16; i++)
		pad_in[i] = 0x10 ^ ct[ctlen - 16 + i];
	ecb_encrypt_block(key, pad_in, pad_out);
	assert_memory_equal(signal_buffer_data(out) + ctlen, pad_out, 16);
	signal_buffer_free(out);
	free(key);
	free(iv);
	free(pt);
	free(ct);
}

/* F.2.6: the vector ciphertext plus its padding block decrypts to the
 * vector plaintext, padding stripped. */
static void
test_cprov_aes256_cbc_decrypt_matches_sp800_38a(void **state)
{
	struct fixture *f = *state;
	size_t klen, ivlen, ptlen, ctlen, i;
	uint8_t *key = hex(AES256_KEY, &klen), *iv = hex(CBC_IV, &ivlen);
	uint8_t *pt = hex(SP800_38A_PT, &ptlen), *ct = hex(CBC_CT, &ctlen);
	uint8_t padded[64 + 16], pad_in[16];
	signal_buffer *out = NULL;

	memcpy(padded, ct, ctlen);
	for (i = 0; i < 16; i++)
		pad_in[i] = 0x10 ^ ct[ctlen - 16 + i];
	ecb_encrypt_block(key, pad_in, padded + ctlen);
	assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, klen, iv, ivlen,
	                                   padded, sizeof padded, f->p.user_data),
	                 0);
	assert_int_equal(signal_buffer_len(out), ptlen);
	assert_memory_equal(signal_buffer_data(out), pt, ptlen);
	signal_buffer_free(out);
	free(key);
	free(iv);
	free(pt);
	free(ct);
}

/* F.5.5 and F.5.6: CTR is its own inverse; also a length that is not a
 * whole number of blocks, which CTR must handle without padding. */
static void
test_cprov_aes256_ctr_matches_sp800_38a_both_ways(void **state)
{
	struct fixture *f = *state;
	size_t klen, ivlen, ptlen, ctlen;
	uint8_t *key = hex(AES256_KEY, &klen), *iv = hex(CTR_IV, &ivlen);
	uint8_t *pt = hex(SP800_38A_PT, &ptlen), *ct = hex(CTR_CT, &ctlen);
	signal_buffer *out = NULL;

	assert_int_equal(f->p.encrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, klen, iv, ivlen,
	                                   pt, ptlen, f->p.user_data),
	                 0);
	assert_int_equal(signal_buffer_len(out), ctlen);
	assert_memory_equal(signal_buffer_data(out), ct, ctlen);
	signal_buffer_free(out);
	out = NULL;

	assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, klen, iv, ivlen,
	                                   ct, ctlen, f->p.user_data),
	                 0);
	assert_int_equal(signal_buffer_len(out), ptlen);
	assert_memory_equal(signal_buffer_data(out), pt, ptlen);
	signal_buffer_free(out);
	out = NULL;

	assert_int_equal(f->p.encrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, klen, iv, ivlen,
	                                   pt, 21, f->p.user_data),
	                 0);
	assert_int_equal(signal_buffer_len(out), 21);
	assert_memory_equal(signal_buffer_data(out), ct, 21);
	signal_buffer_free(out);
	free(key);
	free(iv);
	free(pt);
	free(ct);
}

/* libsignal allows 128/192/256-bit keys: a round trip works for each. */
static void
test_cprov_aes_round_trips_all_key_sizes(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {16, 24, 32};
	static const int modes[] = {SG_CIPHER_AES_CBC_PKCS5, SG_CIPHER_AES_CTR_NOPADDING};
	uint8_t key[32], iv[16], msg[37];
	size_t s, m;

	assert_int_equal(f->p.random_func(key, sizeof key, f->p.user_data), 0);
	assert_int_equal(f->p.random_func(iv, sizeof iv, f->p.user_data), 0);
	assert_int_equal(f->p.random_func(msg, sizeof msg, f->p.user_data), 0);
	for (s = 0; s < 3; s++) {
		for (m = 0; m < 2; m++) {
			signal_buffer *ct = NULL, *pt = NULL;
			assert_int_equal(f->p.encrypt_func(&ct, modes[m], key, sizes[s], iv, 16,
			                                   msg, sizeof msg, f->p.user_data),
			                 0);
			assert_int_equal(f->p.decrypt_func(&pt, modes[m], key, sizes[s], iv, 16,
			                                   signal_buffer_data(ct),
			                                   signal_buffer_len(ct), f->p.user_data),
			                 0);
			assert_int_equal(signal_buffer_len(pt), sizeof msg);
			assert_memory_equal(signal_buffer_data(pt), msg, sizeof msg);
			signal_buffer_free(ct);
			signal_buffer_free(pt);
		}
	}
}

static void
test_cprov_aes_rejects_bad_key_iv_and_mode(void **state)
{
	struct fixture *f = *state;
	static const size_t bad_keys[] = {0, 15, 31, 33, 64};
	uint8_t key[64] = {0}, iv[32] = {0}, msg[16] = {0};
	signal_buffer *out = NULL;
	size_t i;

	for (i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		assert_int_equal(f->p.encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, bad_keys[i],
		                                   iv, 16, msg, 16, f->p.user_data),
		                 SG_ERR_INVAL);
		assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key,
		                                   bad_keys[i], iv, 16, msg, 16, f->p.user_data),
		                 SG_ERR_INVAL);
	}
	assert_int_equal(f->p.encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 15, msg, 16,
	                                   f->p.user_data),
	                 SG_ERR_INVAL);
	assert_int_equal(f->p.encrypt_func(&out, 99, key, 32, iv, 16, msg, 16, f->p.user_data),
	                 SG_ERR_INVAL);
	assert_null(out);
}

/* The bare NIST ciphertext has no padding block: its last plaintext block
 * ends in 0x10 but is not sixteen 0x10 bytes, so PKCS#7 must refuse it. */
static void
test_cprov_aes_cbc_rejects_bad_padding_and_length(void **state)
{
	struct fixture *f = *state;
	size_t klen, ivlen, ctlen;
	uint8_t *key = hex(AES256_KEY, &klen), *iv = hex(CBC_IV, &ivlen);
	uint8_t *ct = hex(CBC_CT, &ctlen);
	signal_buffer *out = NULL;

	assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, klen, iv, ivlen, ct,
	                                   ctlen, f->p.user_data),
	                 CPROV_ERR_BAD_CIPHERTEXT);
	assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, klen, iv, ivlen, ct,
	                                   ctlen - 1, f->p.user_data),
	                 CPROV_ERR_BAD_CIPHERTEXT);
	assert_int_equal(f->p.decrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, klen, iv, ivlen, ct,
	                                   0, f->p.user_data),
	                 CPROV_ERR_BAD_CIPHERTEXT);
	assert_null(out);
	assert_true(CPROV_ERR_BAD_CIPHERTEXT < SG_ERR_MINIMUM);
	free(key);
	free(iv);
	free(ct);
}

static void
test_cprov_random_fills_and_differs(void **state)
{
	struct fixture *f = *state;
	uint8_t a[32], b[32], zero[32] = {0};

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	assert_int_equal(f->p.random_func(a, sizeof a, f->p.user_data), 0);
	assert_int_equal(f->p.random_func(b, sizeof b, f->p.user_data), 0);
	assert_memory_not_equal(a, zero, sizeof a);
	assert_memory_not_equal(a, b, sizeof a);
	assert_int_equal(f->p.random_func(a, 0, f->p.user_data), 0);
}

static void
test_cprov_contexts_are_independent_and_destroy_accepts_null(void **state)
{
	signal_context *c1 = NULL, *c2 = NULL;
	signal_crypto_provider p1, p2;
	struct err e;

	(void)state;
	assert_int_equal(cprov_context_create(&c1, &e), 0);
	assert_int_equal(cprov_context_create(&c2, &e), 0);
	assert_int_equal(cprov_get_provider(c1, &p1), 0);
	assert_int_equal(cprov_get_provider(c2, &p2), 0);
	assert_ptr_not_equal(p1.user_data, p2.user_data);
	cprov_context_destroy(c1);
	assert_int_equal(cprov_get_provider(c1, &p1), -1);
	assert_int_equal(cprov_get_provider(c2, &p2), 0);
	cprov_context_destroy(c2);
	cprov_context_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cprov_hmac_sha256_matches_rfc4231),
	    cmocka_unit_test(test_cprov_hmac_accepts_empty_key),
	    cmocka_unit_test(test_cprov_sha512_matches_fips180_2),
	    cmocka_unit_test(test_cprov_sha512_context_reusable_after_final),
	    cmocka_unit_test(test_cprov_aes256_cbc_encrypt_matches_sp800_38a_then_pads),
	    cmocka_unit_test(test_cprov_aes256_cbc_decrypt_matches_sp800_38a),
	    cmocka_unit_test(test_cprov_aes256_ctr_matches_sp800_38a_both_ways),
	    cmocka_unit_test(test_cprov_aes_round_trips_all_key_sizes),
	    cmocka_unit_test(test_cprov_aes_rejects_bad_key_iv_and_mode),
	    cmocka_unit_test(test_cprov_aes_cbc_rejects_bad_padding_and_length),
	    cmocka_unit_test(test_cprov_random_fills_and_differs),
	    cmocka_unit_test(test_cprov_contexts_are_independent_and_destroy_accepts_null),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
