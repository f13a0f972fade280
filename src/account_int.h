/* Private state of the account half, shared by account.c,
 * account_register.c and account_keys.c. */
#ifndef SOTTO_ACCOUNT_INT_H
#define SOTTO_ACCOUNT_INT_H

#include <libwebsockets.h>

#include "account.h"
#include "crypto/keygen.h"

struct account_reg;
struct account_unlock;

struct account {
	struct core *c;
	unsigned long long kdf_ops;
	size_t kdf_mem;
	struct transport_config tuning;
	/* A registration under way (NULL otherwise). */
	struct account_reg *reg;
	/* An unlock whose key is being derived on its thread (NULL
	 * otherwise); unlock_gate is the tests' hold on that thread. */
	struct account_unlock *unlocking;
	int unlock_gate;
	bool refilling; /* a prekey refill is in flight */
	bool spk_busy;  /* a signed prekey upload is in flight */
	/* Bundle fetches in flight: a send that needs the same keys waits for
	 * them instead of taking another of the peer's one-time prekeys. */
	struct account_job *fetches;
	lws_sorted_usec_list_t spk_sul;     /* the rotation timer */
	lws_sorted_usec_list_t cleanup_sul; /* frees a failed registration */
};

/* account.c */
/* Open the database (pass NULL: key file), create the libsignal store
 * and load who we are from kv. Nothing else. */
int account_open_db(struct core *c, const char *pass, size_t len, struct err *e);
/* Close store and database (after the transport is gone). */
void account_close_db(struct core *c);
/* Remove the profile's database and key files (a registration the relay
 * never took, or a database whose creation never finished). */
void account_remove_files(struct core *c);
/* Start the relay connection for the account loaded from kv. */
int account_connect(struct core *c, struct err *e);
/* The transport's hooks, shared with the registration connection. */
extern const struct transport_hooks account_hooks;
/* Apply tuning to a transport configuration. */
void account_tune(struct core *c, struct transport_config *cfg);

/* account_register.c */
void account_reg_on_state(struct core *c, enum transport_state st, const struct err *why);
void account_reg_free(struct core *c);
/* The JSON-RPC "register" method. */
void account_method_register(struct engine_req *req, json_t *params, void *ctx);

/* account_keys.c */
/* After authentication: prekey count and signed prekey schedule. */
void account_keys_on_connected(struct core *c);
/* keys.low push. */
void account_keys_on_low(struct core *c);
/* Generate n one-time prekeys (persisting the id counter) and upload
 * them; done may be NULL. */
int account_upload_prekeys(struct core *c, size_t n, account_done_fn *done, void *arg,
                           struct err *e);
void account_keys_stop(struct core *c);
/* The JSON-RPC "contacts.add" method: NAME becomes a contact once the
 * relay showed it exists (its bundles fetched, sessions built). */
void account_method_contacts_add(struct engine_req *req, json_t *params, void *ctx);

#endif
