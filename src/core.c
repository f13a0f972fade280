/* The messaging core's life inside the engine: the libsignal context, then
 * the account half (database, relay connection, keys) and the messaging
 * half (msg.c), started in that order and stopped in reverse, with the
 * relay connection closed first so that nothing in flight outlives msg.c. */
#include "core.h"

#include <stdlib.h>

#include "account.h"
#include "crypto/cprov.h"

struct core *
core_new(struct engine *eng, struct err *e)
{
	struct core *c = xcalloc(1, sizeof *c);
	char *pass;
	size_t len;
	int r;

	c->eng = eng;
	c->conn = CORE_CONN_OFFLINE;
	if (cprov_context_create(&c->sig, e) < 0) {
		free(c);
		return NULL;
	}
	if (account_init(c, e) < 0) {
		core_free(c);
		return NULL;
	}
	if (msg_init(c, e) < 0) {
		account_stop(c);
		account_free(c);
		cprov_context_destroy(c->sig);
		free(c->account_name);
		free(c->relay_url);
		free(c);
		return NULL;
	}
	/* With a key file the database is open now: resume. */
	account_start(c);
	/* daemon --foreground --passphrase-file: unlock before serving, and
	 * a wrong passphrase stops the engine from starting at all. */
	if (engine_take_passphrase(eng, &pass, &len) == 1) {
		r = engine_is_locked(eng) ? account_unlock(c, pass, len, e) : 0;
		wipe_free(pass, len + 1);
		if (r < 0) {
			core_free(c);
			return NULL;
		}
	}
	return c;
}

void
core_free(struct core *c)
{
	if (c == NULL)
		return;
	/* Pending relay requests fail (ERR_NETWORK) while msg.c can still
	 * take their answers. */
	account_stop(c);
	if (c->msg != NULL)
		msg_free(c);
	account_free(c);
	cprov_context_destroy(c->sig);
	free(c->account_name);
	free(c->relay_url);
	free(c);
}
