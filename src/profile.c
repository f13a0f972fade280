/* Where a profile lives and the checks that keep it private. */
#include "profile.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
profile_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > PROFILE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* An absolute spelling of path: the engine runs from "/", so a relative
 * --home must be pinned to the frontend's working directory. */
static int
profile_absolute(const char *path, char **out, struct err *e)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		*out = xstrdup(path);
		return 0;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return err_set(e, ERR_IO, "getcwd: %s", strerror(errno));
	*out = xasprintf("%s/%s", cwd, path);
	return 0;
}

static int
profile_data_home(char **out, struct err *e)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;

	/* The XDG spec says to ignore a relative XDG_DATA_HOME. */
	if (xdg != NULL && xdg[0] == '/') {
		*out = xstrdup(xdg);
		return 0;
	}
	if (home == NULL || home[0] != '/') {
		pw = getpwuid(geteuid());
		if (pw == NULL || pw->pw_dir == NULL || pw->pw_dir[0] != '/')
			return err_set(e, ERR_NOTFOUND,
			               "cannot find a home directory: set HOME or use --home");
		home = pw->pw_dir;
	}
	*out = xasprintf("%s/.local/share", home);
	return 0;
}

int
profile_resolve(struct profile *p, const char *home, const char *name, struct err *e)
{
	char *base = NULL;

	memset(p, 0, sizeof *p);
	if (name == NULL)
		name = PROFILE_DEFAULT_NAME;
	if (!profile_name_valid(name))
		return err_set(e, ERR_INVALID,
		               "bad profile name '%s': use up to %d letters, digits, '.', '_' "
		               "or '-', not starting with '.' or '-'",
		               name, PROFILE_NAME_MAX);
	if (home != NULL) {
		if (home[0] == '\0')
			return err_set(e, ERR_INVALID, "--home needs a directory");
		if (profile_absolute(home, &p->dir, e) < 0)
			return -1;
	} else {
		if (profile_data_home(&base, e) < 0)
			return -1;
		p->dir = xasprintf("%s/sotto/%s", base, name);
		free(base);
	}
	p->name = xstrdup(name);
	return 0;
}

int
profile_check_dir(const char *dir, struct err *e)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", dir,
		               strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_INVALID, "%s is not a directory", dir);
	if (st.st_uid != geteuid())
		return err_set(e, ERR_AUTH, "%s is owned by uid %lu, not by us (uid %lu)", dir,
		               (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, ERR_AUTH, "%s is writable by %s (mode %04o): run chmod 700 on it",
		               dir, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
		               (unsigned)(st.st_mode & 07777));
	return 0;
}

/* mkdir -p, each directory we create being 0700. */
static int
profile_mkdirs(const char *dir, struct err *e)
{
	char *path = xstrdup(dir);
	char *p;
	int rc = 0;

	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			rc = err_set(e, ERR_IO, "creating %s: %s", path, strerror(errno));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(path);
	return rc;
}

int
profile_prepare(struct profile *p, struct err *e)
{
	char *real;

	if (profile_mkdirs(p->dir, e) < 0)
		return -1;
	if (profile_check_dir(p->dir, e) < 0)
		return -1;
	real = realpath(p->dir, NULL);
	if (real == NULL)
		return err_set(e, ERR_IO, "%s: %s", p->dir, strerror(errno));
	free(p->dir);
	p->dir = xstrdup(real);
	free(real);
	return 0;
}

char *
profile_path(const struct profile *p, const char *file)
{
	return xasprintf("%s/%s", p->dir, file);
}

void
profile_clear(struct profile *p)
{
	free(p->name);
	free(p->dir);
	p->name = p->dir = NULL;
}
