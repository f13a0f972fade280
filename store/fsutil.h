/* Small file helpers for the profile directory: private modes whatever the
 * umask, atomic replacement, bounded reads. Used by kdf.c and db.c. */
#ifndef SOTTO_STORE_FSUTIL_H
#define SOTTO_STORE_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>

#include "util/err.h"

/* Create dir with mode 0700 if missing. An existing directory must be ours
 * (else ERR_INVALID); group/world bits on it are removed. */
int fsutil_private_dir(const char *dir, struct err *e);

/* Replace path with len bytes of data: a 0600 temporary file, fsync,
 * rename, fsync of the directory. */
int fsutil_write_atomic(const char *path, const void *data, size_t len, struct err *e);

/* Read a whole file of at most cap bytes into buf (NUL-terminated, so cap
 * must leave a byte spare); *len gets its size and *st its stat. Missing:
 * ERR_NOTFOUND; larger than cap - 1: ERR_CORRUPT. The caller wipes buf if
 * it held a secret. */
int fsutil_read_small(const char *path, char *buf, size_t cap, size_t *len, struct stat *st,
                      struct err *e);

/* Open (creating if needed) path read-write with mode 0600 exactly, as
 * O_CLOEXEC; returns the fd or -1 with e filled. excl refuses an existing
 * file with ERR_EXISTS. */
int fsutil_open_private(const char *path, int excl, struct err *e);

/* fsync the directory holding path so a rename or create in it is durable. */
int fsutil_sync_parent(const char *path, struct err *e);

#endif
