/* Throwaway profiles for the store/ tests (see store_fixture.h). */
#include "tests/store_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/kdf.h"

struct fixture *
fixture_new(void)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	f->root = xasprintf("%s/sotto-store-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->root));
	f->dir = xasprintf("%s/profile", f->root);
	return f;
}

static int
fixture_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
fixture_free(struct fixture *f)
{
	if (f == NULL)
		return;
	db_close(f->db);
	nftw(f->root, fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(f->root);
	free(f->dir);
	free(f);
}

struct db_config
fixture_config(const struct fixture *f, bool keyfile)
{
	struct db_config cfg = {.dir = f->dir};

	if (!keyfile) {
		cfg.passphrase = FIXTURE_PASSPHRASE;
		cfg.passphrase_len = strlen(FIXTURE_PASSPHRASE);
	}
	kdf_min_cost(&cfg.kdf_opslimit, &cfg.kdf_memlimit);
	return cfg;
}

struct fixture *
fixture_open(void)
{
	struct fixture *f = fixture_new();
	struct db_config cfg = fixture_config(f, false);
	struct err e;

	if (db_create(&cfg, &f->db, &e) != 0)
		fail_msg("db_create: %s", e.msg);
	return f;
}

void
fixture_reopen(struct fixture *f)
{
	struct db_config cfg = fixture_config(f, false);
	struct err e;

	db_close(f->db);
	f->db = NULL;
	if (db_open(&cfg, &f->db, &e) != 0)
		fail_msg("db_open: %s", e.msg);
}

char *
fixture_path(const struct fixture *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

unsigned char *
fixture_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (fp == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	*len = n;
	return buf;
}

bool
fixture_file_contains(const char *path, const void *needle, size_t len)
{
	size_t n;
	unsigned char *buf = fixture_slurp(path, &n);
	bool found;

	if (buf == NULL)
		return false;
	found = memmem(buf, n, needle, len) != NULL;
	free(buf);
	return found;
}

int
fixture_setup(void **state)
{
	*state = fixture_open();
	return 0;
}

int
fixture_teardown(void **state)
{
	fixture_free(*state);
	return 0;
}
