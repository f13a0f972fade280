/* Shared helpers for the relay store tests: a fresh data directory per
 * test, a fake clock, and short ways to create accounts, sends and blobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/rstore_fixture.h"

static int64_t
fake_clock(void *arg)
{
	return ((struct rstore_fixture *)arg)->now;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void
rstore_fixture_reopen(struct rstore_fixture *f)
{
	struct err e;

	rstore_close(f->s);
	f->s = NULL;
	if (rstore_open(&f->s, f->dir, &f->opt, &e) < 0)
		fail_msg("reopen: %s", e.msg);
}

int
rstore_fixture_setup(void **state)
{
	struct rstore_fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	struct err e;

	snprintf(f->dir, sizeof f->dir, "%s/rstore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	/* The store must create the data directory itself. */
	strncat(f->dir, "/data", sizeof f->dir - strlen(f->dir) - 1);
	rstore_options_default(&f->opt);
	f->opt.clock_ms = fake_clock;
	f->opt.clock_arg = f;
	f->now = 1700000000000LL;
	if (rstore_open(&f->s, f->dir, &f->opt, &e) < 0) {
		fprintf(stderr, "open: %s\n", e.msg);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int
rstore_fixture_teardown(void **state)
{
	struct rstore_fixture *f = *state;

	rstore_close(f->s);
	*strrchr(f->dir, '/') = '\0';
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

void
rstore_fixture_key(uint8_t key[RSTORE_KEY_LEN], int seed)
{
	memset(key, seed, RSTORE_KEY_LEN);
	key[0] = 0x05;
}

void
rstore_fixture_secret(uint8_t secret[RSTORE_SECRET_LEN], int seed)
{
	memset(secret, seed, RSTORE_SECRET_LEN);
}

/* Register `name` with secret seed `seed`, identity key seed `seed`, reg id 100+seed. */
void
rstore_fixture_account(struct rstore_fixture *f, const char *name, int seed)
{
	uint8_t key[RSTORE_KEY_LEN], secret[RSTORE_SECRET_LEN];
	struct err e;

	rstore_fixture_key(key, seed);
	rstore_fixture_secret(secret, seed);
	if (rstore_account_register(f->s, name, key, 100 + (uint32_t)seed, secret, NULL, &e) < 0)
		fail_msg("register %s: %s", name, e.msg);
}

uint32_t
rstore_fixture_device(struct rstore_fixture *f, const char *name, uint32_t reg, int seed)
{
	uint8_t secret[RSTORE_SECRET_LEN];
	uint32_t id = 0;
	struct err e;

	rstore_fixture_secret(secret, seed);
	if (rstore_device_add(f->s, name, reg, secret, NULL, &id, &e) < 0)
		fail_msg("device add: %s", e.msg);
	return id;
}

int
rstore_fixture_send(struct rstore_fixture *f, const char *from, const char *to, uint32_t dev,
                    const char *text, int64_t *id, struct err *e)
{
	struct rstore_outgoing m = {dev, 1, (const uint8_t *)text, strlen(text)};

	return rstore_queue_send(f->s, from, 1, to, &m, 1, id, NULL, e);
}

size_t
rstore_fixture_queue_count(struct rstore_fixture *f, const char *name, uint32_t dev)
{
	size_t n = 999;
	struct err e;

	assert_int_equal(rstore_queue_count(f->s, name, dev, &n, &e), 0);
	return n;
}

/* Upload bytes as one blob in chunks of 1000; returns 0 or -1. */
int
rstore_fixture_put_blob(struct rstore_fixture *f, const char *owner, const uint8_t *data,
                        size_t len, uint64_t declared, uint8_t id[RSTORE_BLOB_ID_LEN],
                        struct err *e)
{
	struct rstore_blob_writer *w;
	size_t off;

	if (rstore_blob_begin(f->s, owner, declared, &w, e) < 0)
		return -1;
	for (off = 0; off < len; off += 1000) {
		size_t k = len - off < 1000 ? len - off : 1000;
		if (rstore_blob_write(w, data + off, k, e) < 0) {
			rstore_blob_abort(w);
			return -1;
		}
	}
	return rstore_blob_finish(w, id, e);
}

size_t
rstore_fixture_blob_files(struct rstore_fixture *f)
{
	char path[400];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof path, "%s/blobs", f->dir);
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.' || strncmp(d->d_name, ".tmp-", 5) == 0;
	closedir(dir);
	return n;
}
