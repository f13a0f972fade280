/* Shared helpers for the store/ tests: a throwaway profile directory and a
 * database opened with the cheapest Argon2id cost, so tests stay fast. */
#ifndef SOTTO_TESTS_STORE_FIXTURE_H
#define SOTTO_TESTS_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

#define FIXTURE_PASSPHRASE "correct horse battery staple"

struct fixture {
	char *root;    /* mkdtemp directory, removed by fixture_free */
	char *dir;     /* root/profile: the profile directory */
	struct db *db; /* open database, or NULL */
};

/* A new empty root; no database yet. */
struct fixture *fixture_new(void);
/* Remove everything under root and free. Closes db. */
void fixture_free(struct fixture *f);

/* Config for f->dir with the fixture passphrase (NULL for keyfile) at
 * minimum cost. */
struct db_config fixture_config(const struct fixture *f, bool keyfile);

/* fixture_new + db_create with the passphrase; asserts success. */
struct fixture *fixture_open(void);
/* Close and reopen f->db with the passphrase; asserts success. */
void fixture_reopen(struct fixture *f);

/* Path under the profile directory; caller frees. */
char *fixture_path(const struct fixture *f, const char *name);
/* Whole file into memory; caller frees. NULL if missing. */
unsigned char *fixture_slurp(const char *path, size_t *len);
/* True if needle occurs in the file (missing file: false). */
bool fixture_file_contains(const char *path, const void *needle, size_t len);

/* cmocka group setup/teardown: *state becomes a fixture_open() fixture. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

#endif
