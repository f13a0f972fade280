/* In-memory libsignal stores: one flat table per store, keyed by an encoded
 * byte string (length-prefixed name + device id, or a key id). Linear
 * search is fine for the handful of rows a test or benchmark holds. */
#include "tests/memstore.h"

#include <string.h>

#include "util/xmalloc.h"

struct mem_row {
	uint8_t *key;
	size_t key_len;
	uint8_t *val;
	size_t val_len;
	uint8_t *user; /* session / sender key "user record", may be NULL */
	size_t user_len;
};

struct mem_table {
	struct mem_row *rows;
	size_t n, cap;
};

struct memstore {
	signal_protocol_store_context *store;
	uint8_t *id_pub, *id_priv;
	size_t id_pub_len, id_priv_len;
	uint32_t registration_id;
	struct mem_table sessions, pre_keys, signed_pre_keys, identities, sender_keys;
	unsigned long session_writes;
};

/* Row keys. An address is (u32 name length, name bytes, i32 device id), so
 * no name can be a prefix of another. */
static size_t
mem_address_key(uint8_t *buf, size_t cap, const char *name, size_t name_len, int32_t device)
{
	uint32_t n32 = (uint32_t)name_len;
	size_t need = 4 + name_len + 4;
	if (need > cap)
		return 0;
	memcpy(buf, &n32, 4);
	memcpy(buf + 4, name, name_len);
	memcpy(buf + 4 + name_len, &device, 4);
	return need;
}

static uint8_t *
mem_address_key_alloc(const char *name, size_t name_len, int32_t device, size_t *len)
{
	uint8_t *buf = xmalloc(8 + name_len);
	*len = mem_address_key(buf, 8 + name_len, name, name_len, device);
	return buf;
}

static struct mem_row *
mem_find(struct mem_table *t, const uint8_t *key, size_t key_len)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		if (t->rows[i].key_len == key_len && memcmp(t->rows[i].key, key, key_len) == 0)
			return &t->rows[i];
	return NULL;
}

static void
mem_row_free(struct mem_row *r)
{
	free(r->key);
	wipe_free(r->val, r->val_len);
	wipe_free(r->user, r->user_len);
}

/* Insert or replace; every argument is copied. */
static void
mem_put(struct mem_table *t, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len,
        const uint8_t *user, size_t user_len)
{
	struct mem_row *r = mem_find(t, key, key_len);

	if (r != NULL) {
		wipe_free(r->val, r->val_len);
		wipe_free(r->user, r->user_len);
	} else {
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 8;
			t->rows = xreallocarray(t->rows, t->cap, sizeof *t->rows);
		}
		r = &t->rows[t->n++];
		r->key = xmemdup(key, key_len);
		r->key_len = key_len;
	}
	r->val = xmemdup(val, val_len);
	r->val_len = val_len;
	r->user = user != NULL ? xmemdup(user, user_len) : NULL;
	r->user_len = user != NULL ? user_len : 0;
}

/* Returns 1 if a row was removed, 0 if there was none. */
static int
mem_del(struct mem_table *t, const uint8_t *key, size_t key_len)
{
	struct mem_row *r = mem_find(t, key, key_len);
	if (r == NULL)
		return 0;
	mem_row_free(r);
	*r = t->rows[--t->n];
	return 1;
}

static void
mem_table_free(struct mem_table *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		mem_row_free(&t->rows[i]);
	free(t->rows);
}

/* Session store */

static int
mem_load_session(signal_buffer **record, signal_buffer **user_record,
                 const signal_protocol_address *a, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);
	struct mem_row *r = mem_find(&ms->sessions, key, klen);

	free(key);
	if (r == NULL)
		return 0;
	*record = signal_buffer_create(r->val, r->val_len);
	if (*record == NULL)
		return SG_ERR_NOMEM;
	if (r->user != NULL && user_record != NULL)
		*user_record = signal_buffer_create(r->user, r->user_len);
	return 1;
}

static int
mem_get_sub_device_sessions(signal_int_list **sessions, const char *name, size_t name_len, void *ud)
{
	struct memstore *ms = ud;
	signal_int_list *list = signal_int_list_alloc();
	uint32_t n32 = (uint32_t)name_len;
	size_t i;

	if (list == NULL)
		return SG_ERR_NOMEM;
	for (i = 0; i < ms->sessions.n; i++) {
		const struct mem_row *r = &ms->sessions.rows[i];
		int32_t device;
		if (r->key_len != 8 + name_len || memcmp(r->key, &n32, 4) != 0 ||
		    memcmp(r->key + 4, name, name_len) != 0)
			continue;
		memcpy(&device, r->key + 4 + name_len, 4);
		signal_int_list_push_back(list, device);
	}
	*sessions = list;
	return (int)signal_int_list_size(list);
}

static int
mem_store_session(const signal_protocol_address *a, uint8_t *record, size_t record_len,
                  uint8_t *user_record, size_t user_record_len, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);

	mem_put(&ms->sessions, key, klen, record, record_len, user_record, user_record_len);
	free(key);
	ms->session_writes++;
	return 0;
}

static int
mem_contains_session(const signal_protocol_address *a, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);
	int found = mem_find(&ms->sessions, key, klen) != NULL;
	free(key);
	return found;
}

static int
mem_delete_session(const signal_protocol_address *a, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);
	int removed = mem_del(&ms->sessions, key, klen);
	free(key);
	return removed;
}

static int
mem_delete_all_sessions(const char *name, size_t name_len, void *ud)
{
	struct memstore *ms = ud;
	signal_int_list *devices = NULL;
	int n, i, removed = 0;

	n = mem_get_sub_device_sessions(&devices, name, name_len, ud);
	for (i = 0; i < n; i++) {
		signal_protocol_address a = {name, name_len,
		                             signal_int_list_at(devices, (unsigned)i)};
		removed += mem_delete_session(&a, ms);
	}
	signal_int_list_free(devices);
	return removed;
}

/* Pre-key and signed pre-key stores share one shape: a u32 id. */

static int
mem_load_id(struct mem_table *t, signal_buffer **record, uint32_t id)
{
	struct mem_row *r = mem_find(t, (const uint8_t *)&id, sizeof id);
	if (r == NULL)
		return SG_ERR_INVALID_KEY_ID;
	*record = signal_buffer_create(r->val, r->val_len);
	return *record != NULL ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int
mem_load_pre_key(signal_buffer **record, uint32_t id, void *ud)
{
	return mem_load_id(&((struct memstore *)ud)->pre_keys, record, id);
}

static int
mem_store_pre_key(uint32_t id, uint8_t *record, size_t len, void *ud)
{
	mem_put(&((struct memstore *)ud)->pre_keys, (const uint8_t *)&id, sizeof id, record, len,
	        NULL, 0);
	return 0;
}

static int
mem_contains_pre_key(uint32_t id, void *ud)
{
	return mem_find(&((struct memstore *)ud)->pre_keys, (const uint8_t *)&id, sizeof id) !=
	       NULL;
}

/* 0 whether or not it was there: this runs after the session is stored. */
static int
mem_remove_pre_key(uint32_t id, void *ud)
{
	mem_del(&((struct memstore *)ud)->pre_keys, (const uint8_t *)&id, sizeof id);
	return 0;
}

static int
mem_load_signed_pre_key(signal_buffer **record, uint32_t id, void *ud)
{
	return mem_load_id(&((struct memstore *)ud)->signed_pre_keys, record, id);
}

static int
mem_store_signed_pre_key(uint32_t id, uint8_t *record, size_t len, void *ud)
{
	mem_put(&((struct memstore *)ud)->signed_pre_keys, (const uint8_t *)&id, sizeof id, record,
	        len, NULL, 0);
	return 0;
}

static int
mem_contains_signed_pre_key(uint32_t id, void *ud)
{
	return mem_find(&((struct memstore *)ud)->signed_pre_keys, (const uint8_t *)&id,
	                sizeof id) != NULL;
}

static int
mem_remove_signed_pre_key(uint32_t id, void *ud)
{
	mem_del(&((struct memstore *)ud)->signed_pre_keys, (const uint8_t *)&id, sizeof id);
	return 0;
}

/* Identity store: trust on first use. */

static int
mem_get_identity_key_pair(signal_buffer **public_data, signal_buffer **private_data, void *ud)
{
	struct memstore *ms = ud;
	*public_data = signal_buffer_create(ms->id_pub, ms->id_pub_len);
	*private_data = signal_buffer_create(ms->id_priv, ms->id_priv_len);
	if (*public_data == NULL || *private_data == NULL) {
		signal_buffer_free(*public_data);
		signal_buffer_bzero_free(*private_data);
		*public_data = *private_data = NULL;
		return SG_ERR_NOMEM;
	}
	return 0;
}

static int
mem_get_local_registration_id(void *ud, uint32_t *registration_id)
{
	*registration_id = ((struct memstore *)ud)->registration_id;
	return 0;
}

static int
mem_save_identity(const signal_protocol_address *a, uint8_t *key_data, size_t key_len, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);

	if (key_data != NULL)
		mem_put(&ms->identities, key, klen, key_data, key_len, NULL, 0);
	else
		mem_del(&ms->identities, key, klen);
	free(key);
	return 0;
}

static int
mem_is_trusted_identity(const signal_protocol_address *a, uint8_t *key_data, size_t key_len,
                        void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_address_key_alloc(a->name, a->name_len, a->device_id, &klen);
	struct mem_row *r = mem_find(&ms->identities, key, klen);
	int trusted;

	free(key);
	trusted = r == NULL || (r->val_len == key_len && memcmp(r->val, key_data, key_len) == 0);
	return trusted;
}

/* Sender key store: keyed by (u32 group length, group, address key). */

static uint8_t *
mem_sender_key_key(const signal_protocol_sender_key_name *n, size_t *len)
{
	uint32_t g32 = (uint32_t)n->group_id_len;
	size_t alen = 8 + n->sender.name_len;
	uint8_t *buf = xmalloc(4 + n->group_id_len + alen);

	memcpy(buf, &g32, 4);
	memcpy(buf + 4, n->group_id, n->group_id_len);
	mem_address_key(buf + 4 + n->group_id_len, alen, n->sender.name, n->sender.name_len,
	                n->sender.device_id);
	*len = 4 + n->group_id_len + alen;
	return buf;
}

static int
mem_store_sender_key(const signal_protocol_sender_key_name *n, uint8_t *record, size_t len,
                     uint8_t *user_record, size_t user_len, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_sender_key_key(n, &klen);
	mem_put(&ms->sender_keys, key, klen, record, len, user_record, user_len);
	free(key);
	return 0;
}

static int
mem_load_sender_key(signal_buffer **record, signal_buffer **user_record,
                    const signal_protocol_sender_key_name *n, void *ud)
{
	struct memstore *ms = ud;
	size_t klen;
	uint8_t *key = mem_sender_key_key(n, &klen);
	struct mem_row *r = mem_find(&ms->sender_keys, key, klen);

	free(key);
	if (r == NULL)
		return 0;
	*record = signal_buffer_create(r->val, r->val_len);
	if (*record == NULL)
		return SG_ERR_NOMEM;
	if (r->user != NULL && user_record != NULL)
		*user_record = signal_buffer_create(r->user, r->user_len);
	return 1;
}

struct memstore *
memstore_create(signal_context *ctx, const uint8_t *id_pub, size_t pub_len, const uint8_t *id_priv,
                size_t priv_len, uint32_t registration_id)
{
	struct memstore *ms = xcalloc(1, sizeof *ms);
	signal_protocol_session_store ss = {
	    .load_session_func = mem_load_session,
	    .get_sub_device_sessions_func = mem_get_sub_device_sessions,
	    .store_session_func = mem_store_session,
	    .contains_session_func = mem_contains_session,
	    .delete_session_func = mem_delete_session,
	    .delete_all_sessions_func = mem_delete_all_sessions,
	    .user_data = ms,
	};
	signal_protocol_pre_key_store pks = {
	    .load_pre_key = mem_load_pre_key,
	    .store_pre_key = mem_store_pre_key,
	    .contains_pre_key = mem_contains_pre_key,
	    .remove_pre_key = mem_remove_pre_key,
	    .user_data = ms,
	};
	signal_protocol_signed_pre_key_store spks = {
	    .load_signed_pre_key = mem_load_signed_pre_key,
	    .store_signed_pre_key = mem_store_signed_pre_key,
	    .contains_signed_pre_key = mem_contains_signed_pre_key,
	    .remove_signed_pre_key = mem_remove_signed_pre_key,
	    .user_data = ms,
	};
	signal_protocol_identity_key_store iks = {
	    .get_identity_key_pair = mem_get_identity_key_pair,
	    .get_local_registration_id = mem_get_local_registration_id,
	    .save_identity = mem_save_identity,
	    .is_trusted_identity = mem_is_trusted_identity,
	    .user_data = ms,
	};
	signal_protocol_sender_key_store sks = {
	    .store_sender_key = mem_store_sender_key,
	    .load_sender_key = mem_load_sender_key,
	    .user_data = ms,
	};

	ms->id_pub = xmemdup(id_pub, pub_len);
	ms->id_pub_len = pub_len;
	ms->id_priv = xmemdup(id_priv, priv_len);
	ms->id_priv_len = priv_len;
	ms->registration_id = registration_id;
	if (signal_protocol_store_context_create(&ms->store, ctx) != 0 ||
	    signal_protocol_store_context_set_session_store(ms->store, &ss) != 0 ||
	    signal_protocol_store_context_set_pre_key_store(ms->store, &pks) != 0 ||
	    signal_protocol_store_context_set_signed_pre_key_store(ms->store, &spks) != 0 ||
	    signal_protocol_store_context_set_identity_key_store(ms->store, &iks) != 0 ||
	    signal_protocol_store_context_set_sender_key_store(ms->store, &sks) != 0) {
		memstore_destroy(ms);
		return NULL;
	}
	return ms;
}

void
memstore_destroy(struct memstore *ms)
{
	if (ms == NULL)
		return;
	/* No destroy_func is set, so this frees only libsignal's side. */
	if (ms->store != NULL)
		signal_protocol_store_context_destroy(ms->store);
	mem_table_free(&ms->sessions);
	mem_table_free(&ms->pre_keys);
	mem_table_free(&ms->signed_pre_keys);
	mem_table_free(&ms->identities);
	mem_table_free(&ms->sender_keys);
	free(ms->id_pub);
	wipe_free(ms->id_priv, ms->id_priv_len);
	free(ms);
}

signal_protocol_store_context *
memstore_context(struct memstore *ms)
{
	return ms->store;
}

int
memstore_session_snapshot(struct memstore *ms, const char *name, int32_t device_id, uint8_t **out,
                          size_t *len)
{
	size_t klen;
	uint8_t *key = mem_address_key_alloc(name, strlen(name), device_id, &klen);
	struct mem_row *r = mem_find(&ms->sessions, key, klen);

	free(key);
	if (r == NULL)
		return 0;
	*out = xmemdup(r->val, r->val_len);
	*len = r->val_len;
	return 1;
}

void
memstore_session_restore(struct memstore *ms, const char *name, int32_t device_id,
                         const uint8_t *rec, size_t len)
{
	size_t klen;
	uint8_t *key = mem_address_key_alloc(name, strlen(name), device_id, &klen);

	if (rec != NULL)
		mem_put(&ms->sessions, key, klen, rec, len, NULL, 0);
	else
		mem_del(&ms->sessions, key, klen);
	free(key);
}

size_t
memstore_pre_key_count(const struct memstore *ms)
{
	return ms->pre_keys.n;
}

unsigned long
memstore_session_writes(const struct memstore *ms)
{
	return ms->session_writes;
}
