/* Trust and read state: the safety number shared with a contact, trusting
 * (and verifying) a contact's current identity key, and mark_read, which
 * clears unread counts and sends read receipts. */
#include "msg_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/safety.h"
#include "store/contacts.h"
#include "store/conversations.h"
#include "store/idstore.h"
#include "store/kv.h"
#include "wire/b64.h"

/* Device ids trust scans for keys to forget (an account has at most 16
 * devices at a time; removed ids are not reused, so allow for some). */
#define MSG_TRUST_SCAN_DEVICES 64

/* The identity key name presents: that of its lowest known device (every
 * device of an account shares it). */
static int
msg_trust_remote_key(struct core *c, const char *name, unsigned char **key, size_t *len,
                     bool *verified, struct err *e)
{
	struct contacts_device *devs = NULL;
	size_t n = 0, i;
	int32_t dev = 1;

	if (contacts_devices(c->db, name, &devs, &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (idstore_get(c->db, name, devs[i].device_id, key, len, verified, e) == 0) {
			free(devs);
			return 0;
		}
	}
	free(devs);
	if (idstore_get(c->db, name, dev, key, len, verified, e) < 0)
		return err_set(e, ERR_NOTFOUND,
		               "no identity key known for %s: exchange a message first", name);
	return 0;
}

static int
msg_trust_safety(struct core *c, const char *name, struct safety_number *sn, unsigned char **rkey,
                 size_t *rlen, struct err *e)
{
	unsigned char *lpub = NULL;
	size_t llen = 0;
	bool verified;
	int r;

	*rkey = NULL;
	if (idstore_get_local(c->db, &lpub, &llen, NULL, NULL, NULL, e) < 0)
		return -1;
	if (msg_trust_remote_key(c, name, rkey, rlen, &verified, e) < 0) {
		free(lpub);
		return -1;
	}
	r = safety_number_compute(c->sig, c->account_name, lpub, llen, name, *rkey, *rlen, sn, e);
	free(lpub);
	if (r < 0) {
		free(*rkey);
		*rkey = NULL;
	}
	return r;
}

static bool
msg_trust_ready(struct core *c, struct engine_req *req, const char *name)
{
	struct err e;

	if (c->db == NULL || c->account_name == NULL) {
		err_set(&e, ERR_AUTH, "%s: the profile is locked or has no account yet",
		        engine_req_method(req));
		msg_fail(req, &e);
		return false;
	}
	if (name == NULL || !wire_name_valid(name)) {
		err_set(&e, ERR_INVALID, "%s: \"name\" must be an account name",
		        engine_req_method(req));
		msg_fail(req, &e);
		return false;
	}
	return true;
}

static void
msg_trust_safety_method(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *name = json_string_value(json_object_get(params, "name"));
	char grouped[SAFETY_GROUPED_LEN];
	struct safety_number sn;
	unsigned char *rkey = NULL;
	size_t rlen = 0;
	bool verified = false;
	char *scan;
	struct err e;

	if (!msg_trust_ready(c, req, name))
		return;
	if (msg_trust_safety(c, name, &sn, &rkey, &rlen, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	free(rkey);
	idstore_name_verified(c->db, name, &verified, &e);
	safety_format_groups(sn.digits, grouped);
	scan = b64_encode(sn.scannable, sn.scannable_len);
	engine_req_reply(req, json_pack("{s:s,s:s,s:s,s:b}", "digits", sn.digits, "groups", grouped,
	                                "scannable", scan, "verified", verified));
	free(scan);
	safety_number_clear(&sn);
}

/* Digits as a person may type them: spaces (and dashes) ignored. */
static bool
msg_trust_digits_match(const char *typed, const char *digits)
{
	size_t k = 0;

	for (; *typed != '\0'; typed++) {
		if (*typed == ' ' || *typed == '-' || *typed == '\t')
			continue;
		if (!isdigit((unsigned char)*typed) || digits[k] != *typed)
			return false;
		k++;
	}
	return k == SAFETY_DIGITS && digits[k] == '\0';
}

/* A key that was refused (verified before) was never stored: forget the
 * stored ones so the next bundle or message is taken as new, and one from
 * a new device is not refused again for differing from the old verified
 * key. The device list may already have lost a stale device: try the low
 * ids too (forgetting an absent key does nothing). */
static int
msg_trust_forget_keys(struct core *c, const char *name, struct err *e)
{
	struct contacts_device *devs = NULL;
	size_t n = 0, i;
	int32_t d;

	if (db_begin(c->db, e) < 0)
		return -1;
	if (contacts_devices(c->db, name, &devs, &n, e) == 0)
		for (i = 0; i < n; i++)
			idstore_save(c->db, name, devs[i].device_id, NULL, 0, e);
	free(devs);
	for (d = 1; d <= MSG_TRUST_SCAN_DEVICES; d++)
		idstore_save(c->db, name, d, NULL, 0, e);
	return db_commit(c->db, e);
}

static int
msg_trust_clear_markers(struct core *c, const char *name, struct err *e)
{
	char *k1 = msg_kv_key("untrusted", name), *k2 = msg_kv_key("idchanged", name);
	int r = -1;

	if (db_begin(c->db, e) < 0)
		goto out;
	if (kv_delete(c->db, k1, e) < 0 || kv_delete(c->db, k2, e) < 0) {
		db_rollback(c->db, NULL);
		goto out;
	}
	r = db_commit(c->db, e);
out:
	free(k1);
	free(k2);
	return r;
}

static void
msg_trust_method(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *digits = json_string_value(json_object_get(params, "verified"));
	struct contacts_entry ce;
	struct safety_number sn;
	unsigned char *rkey = NULL;
	size_t rlen = 0;
	bool blocked = false, verified = false, matched;
	struct err e;
	int r;

	if (!msg_trust_ready(c, req, name))
		return;
	msg_settle(c->msg);
	if (contacts_get(c->db, name, &ce, &e) < 0) {
		if (e.code == ERR_NOTFOUND)
			err_set(&e, ERR_NOTFOUND, "trust: %s is not a contact", name);
		goto fail;
	}
	contacts_entry_clear(&ce);
	if (msg_untrusted(c->msg, name, &blocked, &e) < 0)
		goto fail;
	/* Digits are checked before anything changes: a number that does not
	 * match leaves the key neither accepted nor verified. */
	if (digits != NULL) {
		if (blocked) {
			/* The new key is not stored until it is accepted, so the
			 * digits could only be checked against the old one. */
			err_set(
			    &e, ERR_UNTRUSTED,
			    "trust: %s's identity key changed: accept the new key with trust %s "
			    "(without --verified) first, then compare the new safety number",
			    name, name);
			goto fail;
		}
		if (msg_trust_safety(c, name, &sn, &rkey, &rlen, &e) < 0)
			goto fail;
		matched = msg_trust_digits_match(digits, sn.digits);
		safety_number_clear(&sn);
		if (!matched) {
			free(rkey);
			/* Not a usage error: the numbers differ, which is what a
			 * man in the middle looks like (ERR_CRYPTO: exit 65). */
			err_set(&e, ERR_CRYPTO,
			        "trust: those digits are not the safety number you share with %s; "
			        "nothing was verified or accepted",
			        name);
			goto fail;
		}
	}
	/* Then the messages held back from the new key go through. */
	if (blocked && msg_trust_forget_keys(c, name, &e) < 0)
		goto fail;
	msg_recv_release(c->msg, name);
	if (msg_trust_clear_markers(c, name, &e) < 0) {
		free(rkey);
		goto fail;
	}
	if (rkey != NULL) {
		r = idstore_set_verified(c->db, name, rkey, rlen, true, &e);
		free(rkey);
		if (r < 0)
			goto fail;
	}
	idstore_name_verified(c->db, name, &verified, &e);
	msg_emit(c->msg, "contact", json_pack("{s:s,s:b}", "name", name, "verified", verified));
	engine_req_reply(req, json_pack("{s:s,s:b}", "name", name, "verified", verified));
	return;
fail:
	msg_fail(req, &e);
}

/* --- mark_read --- */

static void
msg_trust_mark_read(struct engine_req *req, json_t *params, void *ctx)
{
	struct core *c = ctx;
	json_t *jc = json_object_get(params, "conversation");
	json_t *ju = json_object_get(params, "up_to_id");
	struct conversations_entry conv;
	struct history_message h = {0};
	char **client_ids = NULL;
	const char **ids;
	size_t n = 0, i;
	struct err e;

	if (c->db == NULL) {
		err_set(&e, ERR_AUTH, "mark_read: the profile is locked");
		msg_fail(req, &e);
		return;
	}
	if (!json_is_integer(jc) || !json_is_integer(ju)) {
		err_set(&e, ERR_INVALID, "mark_read: needs integer conversation and up_to_id");
		msg_fail(req, &e);
		return;
	}
	msg_settle(c->msg);
	if (conversations_get(c->db, json_integer_value(jc), &conv, &e) < 0) {
		msg_fail(req, &e);
		return;
	}
	if (db_begin(c->db, &e) < 0 ||
	    history_mark_read(c->db, conv.id, json_integer_value(ju), MSG_LIST_MAX, &client_ids, &n,
	                      &e) < 0 ||
	    conversations_mark_read(c->db, conv.id, &e) < 0 || db_commit(c->db, &e) < 0) {
		if (db_depth(c->db) > 0)
			db_rollback(c->db, NULL);
		conversations_entry_clear(&conv);
		msg_fail(req, &e);
		return;
	}
	/* Receipts name the sender's message ids (the part after "peer/"). */
	ids = xcalloc(n + 1, sizeof *ids);
	h.direction = HISTORY_IN;
	for (i = 0; i < n; i++) {
		h.client_id = client_ids[i];
		ids[i] = msg_json_peer_msg_id(&h);
	}
	/* One event for the lot, not one per message: a first open of a long
	 * unread conversation marks thousands, and every frontend only needs
	 * to know the conversation is read up to here. */
	if (n > 0)
		msg_emit(c->msg, "conversation.read",
		         json_pack("{s:I,s:I,s:I}", "conversation", (json_int_t)conv.id, "up_to_id",
		                   (json_int_t)json_integer_value(ju), "count", (json_int_t)n));
	if (conv.kind == CONVERSATIONS_DIRECT && n > 0)
		msg_send_receipt(c->msg, conv.peer, CONTENT_RECEIPT_READ, (char **)ids, n);
	engine_req_reply(req, json_object());
	free(ids);
	for (i = 0; i < n; i++)
		free(client_ids[i]);
	free(client_ids);
	conversations_entry_clear(&conv);
}

int
msg_trust_register(struct core *c, struct err *e)
{
	if (engine_method_register(c->eng, "safety", msg_trust_safety_method, c, e) < 0 ||
	    engine_method_register(c->eng, "trust", msg_trust_method, c, e) < 0 ||
	    engine_method_register(c->eng, "mark_read", msg_trust_mark_read, c, e) < 0)
		return -1;
	return 0;
}
