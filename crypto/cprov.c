/* libsignal's crypto provider and lock on top of OpenSSL 3 libcrypto.
 * Algorithms are fetched once per context so that the per-message callbacks
 * only allocate small contexts, never look up implementations. */
#include "crypto/cprov.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define CPROV_AES_BLOCK 16
/* Idle HMAC contexts kept for reuse. libsignal runs about seven HMACs per
 * message, one at a time; re-keying a context costs half of making one. */
#define CPROV_HMAC_POOL 4

/* Everything one signal_context needs; both the provider's and the
 * context's user_data point here. */
struct cprov_state {
	signal_context *ctx;
	pthread_mutex_t lock;
	EVP_MAC_CTX *hmac_template; /* HMAC with SHA-256 selected, no key */
	pthread_mutex_t pool_lock;  /* callbacks may run outside libsignal's lock */
	EVP_MAC_CTX *hmac_pool[CPROV_HMAC_POOL];
	int hmac_pooled;
	EVP_MD *sha512;
	EVP_CIPHER *cbc[3]; /* AES-128/192/256-CBC */
	EVP_CIPHER *ctr[3]; /* AES-128/192/256-CTR */
	signal_crypto_provider provider;
	struct cprov_state *next;
};

/* libsignal has no getter for a context's user_data, so destroy finds our
 * state through this list. Contexts are few and long-lived. */
static pthread_mutex_t cprov_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cprov_state *cprov_registry;

static int
cprov_random(uint8_t *data, size_t len, void *user_data)
{
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(data, chunk) != 1)
			return CPROV_ERR_LIBCRYPTO;
		data += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

static int
cprov_hmac_init(void **hmac_context, const uint8_t *key, size_t key_len, void *user_data)
{
	static const uint8_t empty_key[1];
	struct cprov_state *st = user_data;
	EVP_MAC_CTX *mctx = NULL;

	pthread_mutex_lock(&st->pool_lock);
	if (st->hmac_pooled > 0)
		mctx = st->hmac_pool[--st->hmac_pooled];
	pthread_mutex_unlock(&st->pool_lock);
	if (mctx == NULL)
		mctx = EVP_MAC_CTX_dup(st->hmac_template);
	if (mctx == NULL)
		return SG_ERR_NOMEM;
	/* A NULL key would mean "keep the previous key" to OpenSSL; an empty
	 * HMAC key is legal and must be set explicitly. Setting a key resets
	 * a reused context completely. */
	if (EVP_MAC_init(mctx, key != NULL ? key : empty_key, key != NULL ? key_len : 0, NULL) !=
	    1) {
		EVP_MAC_CTX_free(mctx);
		return CPROV_ERR_LIBCRYPTO;
	}
	*hmac_context = mctx;
	return 0;
}

static int
cprov_hmac_update(void *hmac_context, const uint8_t *data, size_t data_len, void *user_data)
{
	if (EVP_MAC_update(hmac_context, data, data_len) != 1)
		return CPROV_ERR_LIBCRYPTO;
	return 0;
}

static int
cprov_hmac_final(void *hmac_context, signal_buffer **output, void *user_data)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t md_len = 0;
	signal_buffer *buf;

	if (EVP_MAC_final(hmac_context, md, &md_len, sizeof md) != 1)
		return CPROV_ERR_LIBCRYPTO;
	buf = signal_buffer_create(md, md_len);
	/* MAC outputs here are chain and message keys. */
	wipe(md, sizeof md);
	if (buf == NULL)
		return SG_ERR_NOMEM;
	*output = buf;
	return 0;
}

/* Back to the pool if there is room. A pooled context still holds the
 * keyed state of its last use until it is re-keyed or freed, like the
 * session state libsignal keeps in memory anyway. */
static void
cprov_hmac_cleanup(void *hmac_context, void *user_data)
{
	struct cprov_state *st = user_data;

	if (hmac_context == NULL)
		return;
	pthread_mutex_lock(&st->pool_lock);
	if (st->hmac_pooled < CPROV_HMAC_POOL) {
		st->hmac_pool[st->hmac_pooled++] = hmac_context;
		hmac_context = NULL;
	}
	pthread_mutex_unlock(&st->pool_lock);
	EVP_MAC_CTX_free(hmac_context);
}

static int
cprov_sha512_init(void **digest_context, void *user_data)
{
	struct cprov_state *st = user_data;
	EVP_MD_CTX *dctx = EVP_MD_CTX_new();

	if (dctx == NULL)
		return SG_ERR_NOMEM;
	if (EVP_DigestInit_ex(dctx, st->sha512, NULL) != 1) {
		EVP_MD_CTX_free(dctx);
		return CPROV_ERR_LIBCRYPTO;
	}
	*digest_context = dctx;
	return 0;
}

static int
cprov_sha512_update(void *digest_context, const uint8_t *data, size_t data_len, void *user_data)
{
	if (EVP_DigestUpdate(digest_context, data, data_len) != 1)
		return CPROV_ERR_LIBCRYPTO;
	return 0;
}

/* Leaves the context freshly initialised: fingerprints hash thousands of
 * rounds through one context. */
static int
cprov_sha512_final(void *digest_context, signal_buffer **output, void *user_data)
{
	struct cprov_state *st = user_data;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	signal_buffer *buf;

	if (EVP_DigestFinal_ex(digest_context, md, &md_len) != 1)
		return CPROV_ERR_LIBCRYPTO;
	if (EVP_DigestInit_ex(digest_context, st->sha512, NULL) != 1)
		return CPROV_ERR_LIBCRYPTO;
	buf = signal_buffer_create(md, md_len);
	wipe(md, sizeof md);
	if (buf == NULL)
		return SG_ERR_NOMEM;
	*output = buf;
	return 0;
}

static void
cprov_sha512_cleanup(void *digest_context, void *user_data)
{
	EVP_MD_CTX_free(digest_context);
}

/* The cipher for a mode and key length, or NULL if libsignal asked for
 * something AES does not have. */
static const EVP_CIPHER *
cprov_pick_cipher(const struct cprov_state *st, int cipher, size_t key_len, size_t iv_len)
{
	int slot;

	if (iv_len != CPROV_AES_BLOCK)
		return NULL;
	switch (key_len) {
	case 16:
		slot = 0;
		break;
	case 24:
		slot = 1;
		break;
	case 32:
		slot = 2;
		break;
	default:
		return NULL;
	}
	if (cipher == SG_CIPHER_AES_CBC_PKCS5)
		return st->cbc[slot];
	if (cipher == SG_CIPHER_AES_CTR_NOPADDING)
		return st->ctr[slot];
	return NULL;
}

/* One EVP pass in either direction. The result goes through a scratch
 * buffer because a signal_buffer cannot be shortened after the fact and
 * CBC decryption learns its length only at the end. */
static int
cprov_aes(int encrypt, signal_buffer **output, int cipher, const uint8_t *key, size_t key_len,
          const uint8_t *iv, size_t iv_len, const uint8_t *in, size_t in_len, void *user_data)
{
	struct cprov_state *st = user_data;
	const EVP_CIPHER *evp = cprov_pick_cipher(st, cipher, key_len, iv_len);
	EVP_CIPHER_CTX *cctx = NULL;
	uint8_t *scratch = NULL;
	size_t cap = in_len + CPROV_AES_BLOCK;
	int len1 = 0, len2 = 0, rc = CPROV_ERR_LIBCRYPTO;
	signal_buffer *buf;

	if (evp == NULL || key == NULL || iv == NULL)
		return SG_ERR_INVAL;
	if (in_len > (size_t)INT_MAX - CPROV_AES_BLOCK)
		return SG_ERR_INVAL;
	if (!encrypt && cipher == SG_CIPHER_AES_CBC_PKCS5 &&
	    (in_len == 0 || in_len % CPROV_AES_BLOCK != 0))
		return CPROV_ERR_BAD_CIPHERTEXT;

	cctx = EVP_CIPHER_CTX_new();
	if (cctx == NULL)
		return SG_ERR_NOMEM;
	if (EVP_CipherInit_ex(cctx, evp, NULL, key, iv, encrypt) != 1)
		goto out;
	scratch = xmalloc(cap);
	if (EVP_CipherUpdate(cctx, scratch, &len1, in, (int)in_len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(cctx, scratch + len1, &len2) != 1) {
		/* Only CBC decryption can fail here, and only on padding. */
		rc = encrypt ? CPROV_ERR_LIBCRYPTO : CPROV_ERR_BAD_CIPHERTEXT;
		goto out;
	}
	buf = signal_buffer_create(scratch, (size_t)len1 + (size_t)len2);
	if (buf == NULL) {
		rc = SG_ERR_NOMEM;
		goto out;
	}
	*output = buf;
	rc = 0;
out:
	wipe_free(scratch, cap);
	EVP_CIPHER_CTX_free(cctx);
	return rc;
}

static int
cprov_encrypt(signal_buffer **output, int cipher, const uint8_t *key, size_t key_len,
              const uint8_t *iv, size_t iv_len, const uint8_t *plaintext, size_t plaintext_len,
              void *user_data)
{
	return cprov_aes(1, output, cipher, key, key_len, iv, iv_len, plaintext, plaintext_len,
	                 user_data);
}

static int
cprov_decrypt(signal_buffer **output, int cipher, const uint8_t *key, size_t key_len,
              const uint8_t *iv, size_t iv_len, const uint8_t *ciphertext, size_t ciphertext_len,
              void *user_data)
{
	return cprov_aes(0, output, cipher, key, key_len, iv, iv_len, ciphertext, ciphertext_len,
	                 user_data);
}

static void
cprov_lock(void *user_data)
{
	struct cprov_state *st = user_data;
	pthread_mutex_lock(&st->lock);
}

static void
cprov_unlock(void *user_data)
{
	struct cprov_state *st = user_data;
	pthread_mutex_unlock(&st->lock);
}

static void
cprov_state_free(struct cprov_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	while (st->hmac_pooled > 0)
		EVP_MAC_CTX_free(st->hmac_pool[--st->hmac_pooled]);
	EVP_MAC_CTX_free(st->hmac_template);
	EVP_MD_free(st->sha512);
	for (i = 0; i < 3; i++) {
		EVP_CIPHER_free(st->cbc[i]);
		EVP_CIPHER_free(st->ctr[i]);
	}
	pthread_mutex_destroy(&st->pool_lock);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Fetch every algorithm up front so a missing one fails here, at start-up,
 * rather than in the middle of a decrypt. */
static int
cprov_state_fetch(struct cprov_state *st, struct err *e)
{
	static const char *const cbc_names[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
	static const char *const ctr_names[3] = {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"};
	char digest_name[] = "SHA256";
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	size_t i;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		return err_set(e, ERR_INTERNAL, "libcrypto has no HMAC");
	st->hmac_template = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (st->hmac_template == NULL)
		return err_set(e, ERR_INTERNAL, "cannot create HMAC context");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(st->hmac_template, params) != 1)
		return err_set(e, ERR_INTERNAL, "libcrypto has no HMAC-SHA256");
	st->sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (st->sha512 == NULL)
		return err_set(e, ERR_INTERNAL, "libcrypto has no SHA-512");
	for (i = 0; i < 3; i++) {
		st->cbc[i] = EVP_CIPHER_fetch(NULL, cbc_names[i], NULL);
		st->ctr[i] = EVP_CIPHER_fetch(NULL, ctr_names[i], NULL);
		if (st->cbc[i] == NULL || st->ctr[i] == NULL)
			return err_set(e, ERR_INTERNAL, "libcrypto lacks %s or %s", cbc_names[i],
			               ctr_names[i]);
	}
	return 0;
}

int
cprov_context_create(signal_context **out, struct err *e)
{
	struct cprov_state *st = xcalloc(1, sizeof *st);
	pthread_mutexattr_t attr;
	signal_context *ctx = NULL;

	/* libsignal takes its lock again from inside locked sections. */
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) != 0 ||
	    pthread_mutex_init(&st->lock, &attr) != 0) {
		free(st);
		return err_set(e, ERR_INTERNAL, "cannot create recursive mutex");
	}
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&st->pool_lock, NULL);

	if (cprov_state_fetch(st, e) < 0)
		goto fail;

	st->provider = (signal_crypto_provider){
	    .random_func = cprov_random,
	    .hmac_sha256_init_func = cprov_hmac_init,
	    .hmac_sha256_update_func = cprov_hmac_update,
	    .hmac_sha256_final_func = cprov_hmac_final,
	    .hmac_sha256_cleanup_func = cprov_hmac_cleanup,
	    .sha512_digest_init_func = cprov_sha512_init,
	    .sha512_digest_update_func = cprov_sha512_update,
	    .sha512_digest_final_func = cprov_sha512_final,
	    .sha512_digest_cleanup_func = cprov_sha512_cleanup,
	    .encrypt_func = cprov_encrypt,
	    .decrypt_func = cprov_decrypt,
	    .user_data = st,
	};

	if (signal_context_create(&ctx, st) != 0) {
		err_set(e, ERR_INTERNAL, "signal_context_create failed");
		goto fail;
	}
	if (signal_context_set_crypto_provider(ctx, &st->provider) != 0 ||
	    signal_context_set_locking_functions(ctx, cprov_lock, cprov_unlock) != 0) {
		err_set(e, ERR_INTERNAL, "cannot install crypto provider or lock");
		goto fail;
	}
	st->ctx = ctx;

	pthread_mutex_lock(&cprov_registry_lock);
	st->next = cprov_registry;
	cprov_registry = st;
	pthread_mutex_unlock(&cprov_registry_lock);

	*out = ctx;
	return 0;
fail:
	signal_context_destroy(ctx);
	cprov_state_free(st);
	return -1;
}

/* Unlink and return the state registered for ctx, or NULL. */
static struct cprov_state *
cprov_registry_take(signal_context *ctx)
{
	struct cprov_state **pp, *st = NULL;

	pthread_mutex_lock(&cprov_registry_lock);
	for (pp = &cprov_registry; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->ctx == ctx) {
			st = *pp;
			*pp = st->next;
			break;
		}
	}
	pthread_mutex_unlock(&cprov_registry_lock);
	return st;
}

void
cprov_context_destroy(signal_context *ctx)
{
	struct cprov_state *st;

	if (ctx == NULL)
		return;
	st = cprov_registry_take(ctx);
	signal_context_destroy(ctx);
	cprov_state_free(st);
}

int
cprov_get_provider(signal_context *ctx, signal_crypto_provider *out)
{
	struct cprov_state *st;
	int rc = -1;

	pthread_mutex_lock(&cprov_registry_lock);
	for (st = cprov_registry; st != NULL; st = st->next) {
		if (st->ctx == ctx) {
			*out = st->provider;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cprov_registry_lock);
	return rc;
}
