/* Benchmark parties on SQLCipher profiles in temporary directories (see
 * bench_store_party.h). */
#include "bench/bench_store_party.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/idstore.h"
#include "store/sigstore.h"
#include "util/xmalloc.h"

struct bench_store_party {
	char *root; /* mkdtemp directory holding the profile */
	struct db *db;
	signal_protocol_store_context *store;
};

static int
bench_store_party_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
bench_store_party_create(signal_context *ctx, const struct keygen_identity *id,
                         struct bench_store_party **out, struct err *e)
{
	struct bench_store_party *p = xcalloc(1, sizeof *p);
	const char *tmp = getenv("TMPDIR");
	struct db_config cfg = {0};
	char *dir;

	*out = NULL;
	p->root = xasprintf("%s/sotto-bench-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(p->root) == NULL) {
		err_set(e, ERR_IO, "creating a directory under %s", tmp != NULL ? tmp : "/tmp");
		free(p->root);
		free(p);
		return -1;
	}
	dir = xasprintf("%s/profile", p->root);
	cfg.dir = dir; /* no passphrase: a key-file profile */
	if (db_create(&cfg, &p->db, e) != 0 ||
	    idstore_set_local(p->db, id->pub, sizeof id->pub, id->priv, sizeof id->priv,
	                      id->registration_id, e) != 0 ||
	    sigstore_create(p->db, ctx, &p->store, e) != 0) {
		free(dir);
		bench_store_party_destroy(p);
		return -1;
	}
	free(dir);
	*out = p;
	return 0;
}

signal_protocol_store_context *
bench_store_party_context(struct bench_store_party *p)
{
	return p->store;
}

int
bench_store_party_begin(struct bench_store_party *p, struct err *e)
{
	return db_begin(p->db, e);
}

int
bench_store_party_commit(struct bench_store_party *p, struct err *e)
{
	return db_commit(p->db, e);
}

void
bench_store_party_destroy(struct bench_store_party *p)
{
	if (p == NULL)
		return;
	signal_protocol_store_context_destroy(p->store);
	db_close(p->db);
	nftw(p->root, bench_store_party_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(p->root);
	free(p);
}
