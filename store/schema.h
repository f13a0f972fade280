/* The database schema as an ordered list of migrations, tracked in PRAGMA
 * user_version. Version 1 is the first release's schema; every later change
 * is a new step appended to the list, never an edit of an old one. */
#ifndef SOTTO_STORE_SCHEMA_H
#define SOTTO_STORE_SCHEMA_H

#include "store/db.h"
#include "util/err.h"

/* The version this code writes and understands. */
#define SCHEMA_VERSION 5

/* Apply, in order, every step above the database's current version up to
 * target (1..SCHEMA_VERSION), each in its own transaction, so a crash
 * leaves the database at some whole version. A database already at or
 * above target is left alone (db_open refuses one newer than
 * SCHEMA_VERSION before getting here). */
int schema_migrate(struct db *db, int target, struct err *e);

#endif
