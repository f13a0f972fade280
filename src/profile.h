/* A profile is one account on this machine: a directory holding its
 * database, keys and the engine's socket. This resolves where it lives and
 * makes sure nobody else can write to it. */
#ifndef SOTTO_PROFILE_H
#define SOTTO_PROFILE_H

#include "util/err.h"

#define PROFILE_DEFAULT_NAME "default"
#define PROFILE_NAME_MAX 64

struct profile {
	char *name; /* "default" unless --profile says otherwise */
	char *dir;  /* absolute path */
};

/* Work out the directory: home when given (--home DIR, used as is), else
 * $XDG_DATA_HOME/sotto/NAME, else ~/.local/share/sotto/NAME. name may be
 * NULL for the default; it must be 1-64 of [A-Za-z0-9._-], not starting
 * with '.' or '-'. Touches nothing on disk. */
int profile_resolve(struct profile *p, const char *home, const char *name, struct err *e);
/* Create the directory (and missing parents) mode 0700 if needed, then
 * check it with profile_check_dir() and store its canonical path. */
int profile_prepare(struct profile *p, struct err *e);
/* ERR_AUTH unless dir is a directory owned by us that neither group nor
 * others may write; ERR_NOTFOUND / ERR_IO when it cannot be examined. */
int profile_check_dir(const char *dir, struct err *e);
/* dir/file; the caller frees it. */
char *profile_path(const struct profile *p, const char *file);
void profile_clear(struct profile *p);

#endif
