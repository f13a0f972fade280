/* Contacts (accounts we talk to: display name, blocked) and their known
 * devices with registration ids, which the sender encrypts to. Whether a
 * contact is verified is read from the identity store, never stored
 * twice. */
#ifndef SOTTO_STORE_CONTACTS_H
#define SOTTO_STORE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/err.h"

struct contacts_entry {
	char *name;
	char *display_name; /* NULL: show the name */
	bool blocked;
	bool verified; /* every stored identity key of name is verified */
	int64_t created_at, updated_at;
};

struct contacts_device {
	int32_t device_id;
	uint32_t registration_id;
	int64_t updated_at;
};

/* Add a contact; an existing name is ERR_EXISTS. display_name may be NULL. */
int contacts_add(struct db *db, const char *name, const char *display_name, struct err *e);
/* Add if missing; an existing contact is left as it is. */
int contacts_ensure(struct db *db, const char *name, struct err *e);
/* ERR_NOTFOUND if unknown. Free with contacts_entry_clear(). */
int contacts_get(struct db *db, const char *name, struct contacts_entry *out, struct err *e);
/* All contacts by name. Free with contacts_list_free(). */
int contacts_list(struct db *db, struct contacts_entry **out, size_t *n, struct err *e);
void contacts_entry_clear(struct contacts_entry *c);
void contacts_list_free(struct contacts_entry *list, size_t n);

int contacts_set_display_name(struct db *db, const char *name, const char *display_name,
                              struct err *e);
int contacts_set_blocked(struct db *db, const char *name, bool blocked, struct err *e);
/* Delete a contact and its device list (not its history or sessions). */
int contacts_delete(struct db *db, const char *name, struct err *e);

/* Record one device of a contact, who must exist (ERR_NOTFOUND), or its
 * new registration id; updated_at is when that last changed. */
int contacts_device_set(struct db *db, const char *name, int32_t device_id,
                        uint32_t registration_id, struct err *e);
/* Forget one device; absent is not an error. */
int contacts_device_remove(struct db *db, const char *name, int32_t device_id, struct err *e);
/* Devices of name by id; *out is the caller's to free(). */
int contacts_devices(struct db *db, const char *name, struct contacts_device **out, size_t *n,
                     struct err *e);

#endif
