/* Database key derivation (Argon2id through libsodium), the key file of
 * unattended profiles, and the parameter sidecar. See kdf.h for where each
 * piece lives and why. */
#include "store/kdf.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/fsutil.h"

#define KDF_MAGIC "sotto-store-kdf 1"
/* Label for the key check value: changing it invalidates every profile. */
#define KDF_CHECK_LABEL "sotto store key check v1"

static void
kdf_sodium_init(void)
{
	/* Idempotent and thread-safe; failure means no usable RNG at all. */
	if (sodium_init() < 0)
		abort();
}

void
kdf_default_cost(unsigned long long *opslimit, size_t *memlimit)
{
	*opslimit = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
	*memlimit = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
}

void
kdf_min_cost(unsigned long long *opslimit, size_t *memlimit)
{
	*opslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
	*memlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
}

/* Accept anything libsodium accepts up to its SENSITIVE level: a sidecar
 * asking for more is more likely tampered with than deliberate. */
static int
kdf_cost_valid(unsigned long long opslimit, size_t memlimit)
{
	return opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       opslimit <= crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE * 4 &&
	       memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	       memlimit <= crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
}

static void
kdf_check_value(const unsigned char *key, unsigned char *check)
{
	crypto_generichash(check, KDF_CHECK_LEN, (const unsigned char *)KDF_CHECK_LABEL,
	                   sizeof KDF_CHECK_LABEL - 1, key, KDF_KEY_LEN);
}

int
kdf_verify(const struct kdf_params *p, const unsigned char *key, struct err *e)
{
	unsigned char check[KDF_CHECK_LEN];
	int same;

	kdf_check_value(key, check);
	same = sodium_memcmp(check, p->check, KDF_CHECK_LEN) == 0;
	wipe(check, sizeof check);
	if (!same)
		return err_set(e, ERR_BADKEY,
		               p->mode == KDF_PASSPHRASE
		                   ? "wrong passphrase"
		                   : "the key file does not match this database");
	return 0;
}

static int
kdf_argon2(const char *pass, size_t pass_len, const struct kdf_params *p, unsigned char *key,
           struct err *e)
{
	kdf_sodium_init();
	if (!kdf_cost_valid(p->opslimit, p->memlimit))
		return err_set(e, ERR_INVALID, "Argon2id cost out of range (ops %llu, mem %zu)",
		               p->opslimit, p->memlimit);
	if (crypto_pwhash(key, KDF_KEY_LEN, pass, pass_len, p->salt, p->opslimit, p->memlimit,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		wipe(key, KDF_KEY_LEN);
		return err_set(e, ERR_INTERNAL, "Argon2id failed (out of memory?)");
	}
	return 0;
}

int
kdf_new_passphrase(const char *pass, size_t pass_len, unsigned long long opslimit, size_t memlimit,
                   struct kdf_params *p, unsigned char *key, struct err *e)
{
	kdf_sodium_init();
	if (pass_len == 0)
		return err_set(e, ERR_INVALID, "the passphrase is empty");
	memset(p, 0, sizeof *p);
	p->mode = KDF_PASSPHRASE;
	if (opslimit == 0 && memlimit == 0)
		kdf_default_cost(&p->opslimit, &p->memlimit);
	else {
		p->opslimit = opslimit;
		p->memlimit = memlimit;
	}
	randombytes_buf(p->salt, sizeof p->salt);
	if (kdf_argon2(pass, pass_len, p, key, e) != 0)
		return -1;
	kdf_check_value(key, p->check);
	return 0;
}

/* The key kdf_prime handed over. tag binds it to the passphrase without
 * keeping the passphrase: a keyed hash of it under the key itself. */
struct kdf_primed {
	bool full;
	unsigned long long opslimit;
	size_t memlimit;
	unsigned char salt[KDF_SALT_LEN];
	unsigned char tag[KDF_CHECK_LEN];
	unsigned char key[KDF_KEY_LEN];
};

static _Thread_local struct kdf_primed kdf_primed;

static void
kdf_primed_tag(const char *pass, size_t pass_len, const unsigned char *key, unsigned char *tag)
{
	crypto_generichash(tag, KDF_CHECK_LEN, (const unsigned char *)pass, pass_len, key,
	                   KDF_KEY_LEN);
}

void
kdf_prime(const char *pass, size_t pass_len, const struct kdf_params *p, const unsigned char *key)
{
	kdf_sodium_init();
	kdf_prime_clear();
	kdf_primed.opslimit = p->opslimit;
	kdf_primed.memlimit = p->memlimit;
	memcpy(kdf_primed.salt, p->salt, KDF_SALT_LEN);
	memcpy(kdf_primed.key, key, KDF_KEY_LEN);
	kdf_primed_tag(pass, pass_len, key, kdf_primed.tag);
	kdf_primed.full = true;
}

void
kdf_prime_clear(void)
{
	wipe(&kdf_primed, sizeof kdf_primed);
}

/* Take the primed key if it was made from pass under p; the slot is
 * emptied either way. */
static bool
kdf_take_primed(const char *pass, size_t pass_len, const struct kdf_params *p, unsigned char *key)
{
	unsigned char tag[KDF_CHECK_LEN];
	bool same;

	if (!kdf_primed.full)
		return false;
	kdf_primed_tag(pass, pass_len, kdf_primed.key, tag);
	same = kdf_primed.opslimit == p->opslimit && kdf_primed.memlimit == p->memlimit &&
	       sodium_memcmp(kdf_primed.salt, p->salt, KDF_SALT_LEN) == 0 &&
	       sodium_memcmp(kdf_primed.tag, tag, KDF_CHECK_LEN) == 0;
	if (same)
		memcpy(key, kdf_primed.key, KDF_KEY_LEN);
	wipe(tag, sizeof tag);
	kdf_prime_clear();
	return same;
}

int
kdf_derive_passphrase(const char *pass, size_t pass_len, const struct kdf_params *p,
                      unsigned char *key, struct err *e)
{
	if (p->mode != KDF_PASSPHRASE)
		return err_set(e, ERR_BADKEY,
		               "this profile is unlocked by a key file, "
		               "not a passphrase");
	if (!kdf_take_primed(pass, pass_len, p, key) && kdf_argon2(pass, pass_len, p, key, e) != 0)
		return -1;
	if (kdf_verify(p, key, e) != 0) {
		wipe(key, KDF_KEY_LEN);
		return -1;
	}
	return 0;
}

void
kdf_new_keyfile(struct kdf_params *p, unsigned char *key)
{
	kdf_sodium_init();
	memset(p, 0, sizeof *p);
	p->mode = KDF_KEYFILE;
	randombytes_buf(key, KDF_KEY_LEN);
	kdf_check_value(key, p->check);
}

void
kdf_keyspec(const unsigned char *key, char *out)
{
	out[0] = 'x';
	out[1] = '\'';
	sodium_bin2hex(out + 2, 2 * KDF_KEY_LEN + 1, key, KDF_KEY_LEN);
	out[2 + 2 * KDF_KEY_LEN] = '\'';
	out[2 + 2 * KDF_KEY_LEN + 1] = '\0';
}

int
kdf_params_save(const char *path, const struct kdf_params *p, struct err *e)
{
	char salt[2 * KDF_SALT_LEN + 1], check[2 * KDF_CHECK_LEN + 1];
	char buf[512];
	int n;

	sodium_bin2hex(salt, sizeof salt, p->salt, sizeof p->salt);
	sodium_bin2hex(check, sizeof check, p->check, sizeof p->check);
	n = snprintf(buf, sizeof buf,
	             KDF_MAGIC "\nmode %s\nalg argon2id13\nopslimit %llu\nmemlimit %zu\n"
	                       "salt %s\ncheck %s\n",
	             p->mode == KDF_PASSPHRASE ? "passphrase" : "keyfile", p->opslimit, p->memlimit,
	             salt, check);
	if (n < 0 || (size_t)n >= sizeof buf)
		return err_set(e, ERR_INTERNAL, "key parameters do not fit");
	return fsutil_write_atomic(path, buf, (size_t)n, e);
}

static int
kdf_hex_field(const char *hex, unsigned char *out, size_t out_len)
{
	size_t bin_len;

	if (strlen(hex) != 2 * out_len)
		return -1;
	if (sodium_hex2bin(out, out_len, hex, 2 * out_len, NULL, &bin_len, NULL) != 0 ||
	    bin_len != out_len)
		return -1;
	return 0;
}

int
kdf_params_load(const char *path, struct kdf_params *p, struct err *e)
{
	char buf[512], mode[16], alg[16], salt[2 * KDF_SALT_LEN + 2], check[2 * KDF_CHECK_LEN + 2];
	struct stat st;
	size_t len;
	int end = -1;

	if (fsutil_read_small(path, buf, sizeof buf, &len, &st, e) != 0)
		return -1;
	memset(p, 0, sizeof *p);
	if (strlen(buf) != len ||
	    sscanf(buf,
	           KDF_MAGIC "\nmode %15s\nalg %15s\nopslimit %llu\nmemlimit %zu\n"
	                     "salt %33s\ncheck %65s\n%n",
	           mode, alg, &p->opslimit, &p->memlimit, salt, check, &end) != 6 ||
	    end != (int)len)
		return err_set(e, ERR_CORRUPT, "%s is malformed", path);
	if (strcmp(alg, "argon2id13") != 0 || kdf_hex_field(salt, p->salt, KDF_SALT_LEN) != 0 ||
	    kdf_hex_field(check, p->check, KDF_CHECK_LEN) != 0)
		return err_set(e, ERR_CORRUPT, "%s is malformed", path);
	if (strcmp(mode, "passphrase") == 0) {
		p->mode = KDF_PASSPHRASE;
		if (!kdf_cost_valid(p->opslimit, p->memlimit))
			return err_set(e, ERR_CORRUPT, "%s: Argon2id cost out of range", path);
	} else if (strcmp(mode, "keyfile") == 0)
		p->mode = KDF_KEYFILE;
	else
		return err_set(e, ERR_CORRUPT, "%s: unknown mode", path);
	return 0;
}

int
kdf_keyfile_write(const char *path, const unsigned char *key, struct err *e)
{
	char hex[2 * KDF_KEY_LEN + 2];
	int rc;

	sodium_bin2hex(hex, sizeof hex, key, KDF_KEY_LEN);
	hex[2 * KDF_KEY_LEN] = '\n';
	rc = fsutil_write_atomic(path, hex, 2 * KDF_KEY_LEN + 1, e);
	wipe(hex, sizeof hex);
	return rc;
}

int
kdf_keyfile_read(const char *path, unsigned char *key, struct err *e)
{
	char buf[2 * KDF_KEY_LEN + 8];
	struct stat st;
	size_t len;
	int rc = -1;

	if (fsutil_read_small(path, buf, sizeof buf, &len, &st, e) != 0) {
		if (e != NULL && e->code == ERR_CORRUPT)
			e->code = ERR_BADKEY;
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(e, ERR_INVALID, "key file %s belongs to another user", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(e, ERR_INVALID,
		        "key file %s is accessible by others (mode %04o); "
		        "it may have leaked: chmod 600 it if you are sure it did not",
		        path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* 64 hex digits, optionally one newline. */
	if (len == 2 * KDF_KEY_LEN + 1 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len != 2 * KDF_KEY_LEN || kdf_hex_field(buf, key, KDF_KEY_LEN) != 0) {
		err_set(e, ERR_BADKEY, "key file %s is malformed", path);
		goto out;
	}
	rc = 0;
out:
	wipe(buf, sizeof buf);
	if (rc != 0)
		wipe(key, KDF_KEY_LEN);
	return rc;
}
