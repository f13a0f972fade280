/* Tests for store/kdf: Argon2id derivation, key check, sidecar and key
 * file handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/kdf.h"
#include "tests/store_fixture.h"

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_kdf_default_cost_is_argon2id_moderate_or_stronger(void **state)
{
	unsigned long long ops;
	size_t mem;

	(void)state;
	kdf_default_cost(&ops, &mem);
	assert_true(ops >= crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
	assert_true(mem >= crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
	kdf_min_cost(&ops, &mem);
	assert_int_equal(ops, crypto_pwhash_argon2id_OPSLIMIT_MIN);
}

/* The one slow test: a profile created without a cost gets the strong
 * default, recorded in its sidecar. */
static void
test_kdf_profile_without_cost_records_default_cost(void **state)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, false);
	struct kdf_params p;
	unsigned long long ops;
	size_t mem;
	struct err e;
	char *path;

	(void)state;
	cfg.kdf_opslimit = 0;
	cfg.kdf_memlimit = 0;
	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("%s", e.msg);
	path = fixture_path(f, KDF_PARAMS_FILE);
	assert_int_equal(kdf_params_load(path, &p, &e), 0);
	kdf_default_cost(&ops, &mem);
	assert_int_equal(p.mode, KDF_PASSPHRASE);
	assert_int_equal(p.opslimit, ops);
	assert_int_equal(p.memlimit, mem);
	free(path);
	fixture_free(f);
}

static void
test_kdf_same_passphrase_and_salt_derive_same_key(void **state)
{
	unsigned char k1[KDF_KEY_LEN], k2[KDF_KEY_LEN], k3[KDF_KEY_LEN];
	struct kdf_params p, q;
	unsigned long long ops;
	size_t mem;
	struct err e;

	(void)state;
	kdf_min_cost(&ops, &mem);
	assert_int_equal(kdf_new_passphrase("pw", 2, ops, mem, &p, k1, &e), 0);
	assert_int_equal(kdf_derive_passphrase("pw", 2, &p, k2, &e), 0);
	assert_memory_equal(k1, k2, KDF_KEY_LEN);
	/* A fresh profile gets a fresh salt, hence another key. */
	assert_int_equal(kdf_new_passphrase("pw", 2, ops, mem, &q, k3, &e), 0);
	assert_memory_not_equal(p.salt, q.salt, KDF_SALT_LEN);
	assert_memory_not_equal(k1, k3, KDF_KEY_LEN);
}

static void
test_kdf_wrong_passphrase_is_badkey_and_wipes_key(void **state)
{
	unsigned char key[KDF_KEY_LEN], zero[KDF_KEY_LEN] = {0};
	struct kdf_params p;
	unsigned long long ops;
	size_t mem;
	struct err e;

	(void)state;
	kdf_min_cost(&ops, &mem);
	assert_int_equal(kdf_new_passphrase("right", 5, ops, mem, &p, key, &e), 0);
	assert_int_equal(kdf_derive_passphrase("wrong", 5, &p, key, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	assert_string_equal(e.msg, "wrong passphrase");
	assert_memory_equal(key, zero, KDF_KEY_LEN);
}

/* The engine derives on a worker thread and hands the key to db_open's
 * derivation through kdf_prime. A primed key is taken once, only for its
 * own passphrase and parameters; a bogus one primed shows it was taken. */
static void
test_kdf_primed_key_is_taken_once_and_only_for_its_passphrase(void **state)
{
	unsigned char key[KDF_KEY_LEN], out[KDF_KEY_LEN], bogus[KDF_KEY_LEN];
	unsigned long long ops;
	struct kdf_params p, other;
	struct err e = {0};
	size_t mem;
	(void)state;

	kdf_min_cost(&ops, &mem);
	assert_int_equal(kdf_new_passphrase("right", 5, ops, mem, &p, key, &e), 0);
	memset(bogus, 0x5a, sizeof bogus);

	kdf_prime("right", 5, &p, bogus);
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	/* Used up: the next derivation runs Argon2id again. */
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), 0);
	assert_memory_equal(out, key, KDF_KEY_LEN);

	kdf_prime("right", 5, &p, key);
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), 0);
	assert_memory_equal(out, key, KDF_KEY_LEN);

	/* Another passphrase, or other parameters, do not take it. */
	kdf_prime("wrong", 5, &p, key);
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), 0);
	other = p;
	other.salt[0] ^= 1;
	kdf_prime("right", 5, &other, bogus);
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), 0);
	/* Cleared: nothing is taken. */
	kdf_prime("right", 5, &p, bogus);
	kdf_prime_clear();
	assert_int_equal(kdf_derive_passphrase("right", 5, &p, out, &e), 0);
}

static void
test_kdf_empty_passphrase_refused_at_creation(void **state)
{
	unsigned char key[KDF_KEY_LEN];
	struct kdf_params p;
	struct err e;

	(void)state;
	assert_int_equal(kdf_new_passphrase("", 0, 0, 0, &p, key, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_kdf_sidecar_roundtrips_with_mode_0600_under_open_umask(void **state)
{
	struct fixture *f = fixture_new();
	unsigned char key[KDF_KEY_LEN];
	struct kdf_params p, q;
	unsigned long long ops;
	size_t mem;
	struct stat st;
	struct err e;
	char *path = xasprintf("%s/params", f->root);
	mode_t old = umask(0);

	(void)state;
	kdf_min_cost(&ops, &mem);
	assert_int_equal(kdf_new_passphrase("pw", 2, ops, mem, &p, key, &e), 0);
	assert_int_equal(kdf_params_save(path, &p, &e), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(kdf_params_load(path, &q, &e), 0);
	assert_int_equal(q.mode, KDF_PASSPHRASE);
	assert_int_equal(q.opslimit, p.opslimit);
	assert_int_equal(q.memlimit, p.memlimit);
	assert_memory_equal(q.salt, p.salt, KDF_SALT_LEN);
	assert_memory_equal(q.check, p.check, KDF_CHECK_LEN);
	assert_int_equal(kdf_verify(&q, key, &e), 0);
	free(path);
	fixture_free(f);
}

static void
test_kdf_malformed_or_greedy_sidecar_is_corrupt(void **state)
{
	struct fixture *f = fixture_new();
	char *path = xasprintf("%s/params", f->root);
	struct kdf_params p;
	struct err e;
	static const char greedy[] =
	    "sotto-store-kdf 1\nmode passphrase\nalg argon2id13\nopslimit 3\n"
	    "memlimit 99999999999\nsalt 00112233445566778899aabbccddeeff\n"
	    "check 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

	(void)state;
	write_file(path, "garbage\n", 0600);
	assert_int_equal(kdf_params_load(path, &p, &e), -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	write_file(path, greedy, 0600);
	assert_int_equal(kdf_params_load(path, &p, &e), -1);
	assert_int_equal(e.code, ERR_CORRUPT);
	unlink(path);
	assert_int_equal(kdf_params_load(path, &p, &e), -1);
	assert_int_equal(e.code, ERR_NOTFOUND);
	free(path);
	fixture_free(f);
}

static void
test_kdf_keyfile_roundtrips_with_mode_0600(void **state)
{
	struct fixture *f = fixture_new();
	unsigned char key[KDF_KEY_LEN], back[KDF_KEY_LEN];
	char *path = xasprintf("%s/key", f->root);
	struct kdf_params p;
	struct stat st;
	struct err e;
	mode_t old = umask(0);

	(void)state;
	kdf_new_keyfile(&p, key);
	assert_int_equal(kdf_keyfile_write(path, key, &e), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(kdf_keyfile_read(path, back, &e), 0);
	assert_memory_equal(key, back, KDF_KEY_LEN);
	assert_int_equal(kdf_verify(&p, back, &e), 0);
	free(path);
	fixture_free(f);
}

static void
test_kdf_keyfile_readable_by_others_is_refused(void **state)
{
	struct fixture *f = fixture_new();
	unsigned char key[KDF_KEY_LEN];
	char *path = xasprintf("%s/key", f->root);
	struct err e;

	(void)state;
	write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	           0644);
	assert_int_equal(kdf_keyfile_read(path, key, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "accessible by others"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(kdf_keyfile_read(path, key, &e), 0);
	free(path);
	fixture_free(f);
}

static void
test_kdf_malformed_keyfile_is_badkey(void **state)
{
	struct fixture *f = fixture_new();
	unsigned char key[KDF_KEY_LEN];
	char *path = xasprintf("%s/key", f->root);
	struct err e;

	(void)state;
	write_file(path, "not hex at all\n", 0600);
	assert_int_equal(kdf_keyfile_read(path, key, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	write_file(path, "0011\n", 0600);
	assert_int_equal(kdf_keyfile_read(path, key, &e), -1);
	assert_int_equal(e.code, ERR_BADKEY);
	free(path);
	fixture_free(f);
}

static void
test_kdf_keyspec_is_sqlcipher_raw_hex_key(void **state)
{
	unsigned char key[KDF_KEY_LEN];
	char spec[KDF_KEYSPEC_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(0xA0 + i);
	kdf_keyspec(key, spec);
	assert_int_equal(strlen(spec), 67);
	assert_memory_equal(spec, "x'a0a1a2", 8);
	assert_string_equal(spec + 64, "bf'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdf_default_cost_is_argon2id_moderate_or_stronger),
	    cmocka_unit_test(test_kdf_profile_without_cost_records_default_cost),
	    cmocka_unit_test(test_kdf_same_passphrase_and_salt_derive_same_key),
	    cmocka_unit_test(test_kdf_wrong_passphrase_is_badkey_and_wipes_key),
	    cmocka_unit_test(test_kdf_primed_key_is_taken_once_and_only_for_its_passphrase),
	    cmocka_unit_test(test_kdf_empty_passphrase_refused_at_creation),
	    cmocka_unit_test(test_kdf_sidecar_roundtrips_with_mode_0600_under_open_umask),
	    cmocka_unit_test(test_kdf_malformed_or_greedy_sidecar_is_corrupt),
	    cmocka_unit_test(test_kdf_keyfile_roundtrips_with_mode_0600),
	    cmocka_unit_test(test_kdf_keyfile_readable_by_others_is_refused),
	    cmocka_unit_test(test_kdf_malformed_keyfile_is_badkey),
	    cmocka_unit_test(test_kdf_keyspec_is_sqlcipher_raw_hex_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
