/* The database key: 32 raw bytes for SQLCipher, derived from a passphrase
 * with Argon2id or read from a random key file for unattended profiles.
 *
 * Where things live (all in the profile directory, all mode 0600):
 *   store.kdf  a small text sidecar: mode (passphrase | keyfile), the Argon2id
 *              parameters and salt, and a key check value. Not secret.
 *   store.key  keyfile profiles only: the 32-byte key as 64 hex digits.
 * SQLCipher 3.4.1 does accept a raw key with an explicit salt (96 hex
 * digits), so the database header's salt could double as the Argon2 salt.
 * We keep the salt in the sidecar instead: the parameters must live outside
 * the encrypted file anyway, and with the salt and a key check beside them a
 * damaged database header reads as "corrupt", never as "wrong passphrase".
 * The check value is a keyed BLAKE2b of a fixed label under the derived key;
 * it tells a wrong key apart before SQLCipher touches the database, and it
 * gives an attacker nothing the database's own page HMAC does not. */
#ifndef SOTTO_STORE_KDF_H
#define SOTTO_STORE_KDF_H

#include <stddef.h>

#include "util/err.h"

#define KDF_KEY_LEN 32
#define KDF_SALT_LEN 16
#define KDF_CHECK_LEN 32
/* "x'" + 64 hex digits + "'" + NUL: the SQLCipher raw key spec. */
#define KDF_KEYSPEC_LEN (2 + 2 * KDF_KEY_LEN + 1 + 1)

#define KDF_PARAMS_FILE "store.kdf"
#define KDF_KEY_FILE "store.key"

enum kdf_mode {
	KDF_PASSPHRASE = 1,
	KDF_KEYFILE = 2,
};

struct kdf_params {
	enum kdf_mode mode;
	unsigned long long opslimit; /* Argon2id passes; 0 in keyfile mode */
	size_t memlimit;             /* Argon2id memory in bytes; 0 in keyfile mode */
	unsigned char salt[KDF_SALT_LEN];
	unsigned char check[KDF_CHECK_LEN];
};

/* Production Argon2id cost (libsodium's MODERATE: 3 passes, 256 MiB, about
 * 0.5-1 s on a current machine). */
void kdf_default_cost(unsigned long long *opslimit, size_t *memlimit);
/* The cheapest cost libsodium allows: for tests only. */
void kdf_min_cost(unsigned long long *opslimit, size_t *memlimit);

/* Fill p for a new passphrase profile (fresh random salt) and derive its key
 * into key[KDF_KEY_LEN], setting p->check. opslimit/memlimit 0 mean the
 * defaults. Returns 0, or -1 with e filled (ERR_INVALID for out-of-range
 * parameters, ERR_INTERNAL if Argon2 fails, e.g. out of memory). */
int kdf_new_passphrase(const char *pass, size_t pass_len, unsigned long long opslimit,
                       size_t memlimit, struct kdf_params *p, unsigned char *key, struct err *e);

/* Derive the key for an existing passphrase profile and verify it against
 * p->check. A mismatch is ERR_BADKEY. key is wiped on failure. */
int kdf_derive_passphrase(const char *pass, size_t pass_len, const struct kdf_params *p,
                          unsigned char *key, struct err *e);

/* Argon2id run on another thread (the engine derives off its event loop):
 * hand the key it produced to the next kdf_derive_passphrase made in THIS
 * thread for the same passphrase and parameters, which then takes it
 * instead of deriving again (db_open derives inside and takes no raw
 * key). One slot per thread, used once; kdf_derive_passphrase empties it
 * whatever it finds. The key is copied. */
void kdf_prime(const char *pass, size_t pass_len, const struct kdf_params *p,
               const unsigned char *key);
/* Wipe the calling thread's slot (after the db_open it was meant for). */
void kdf_prime_clear(void);

/* Fill p for a new keyfile profile: a fresh random key into key and
 * p->check. The caller writes the key with kdf_keyfile_write(). */
void kdf_new_keyfile(struct kdf_params *p, unsigned char *key);

/* Verify key against p->check (constant time). 0, or ERR_BADKEY. */
int kdf_verify(const struct kdf_params *p, const unsigned char *key, struct err *e);

/* Write the sidecar at path atomically (temporary file, fsync, rename),
 * mode 0600 whatever the umask. */
int kdf_params_save(const char *path, const struct kdf_params *p, struct err *e);
/* Read and validate a sidecar. Missing file: ERR_NOTFOUND; malformed or out
 * of range (a tampered file must not make us allocate gigabytes):
 * ERR_CORRUPT. */
int kdf_params_load(const char *path, struct kdf_params *p, struct err *e);

/* Create the key file at path (0600, replacing a leftover one) holding key
 * as hex. */
int kdf_keyfile_write(const char *path, const unsigned char *key, struct err *e);
/* Read a key file. Refused (ERR_INVALID) if group/world accessible or not
 * ours, like ssh does with private keys: it may already have leaked.
 * Missing: ERR_NOTFOUND; malformed: ERR_BADKEY. key is wiped on failure. */
int kdf_keyfile_read(const char *path, unsigned char *key, struct err *e);

/* Write SQLCipher's raw key spec "x'<64 hex>'" into out[KDF_KEYSPEC_LEN].
 * It is as secret as the key: wipe it after use. */
void kdf_keyspec(const unsigned char *key, char *out);

#endif
