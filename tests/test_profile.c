/* Unit tests for profile: where a profile lives, and that its directory
 * is created private and refused when others could write to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"

static char base[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof base, "/tmp/sotto-test-profile-XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_profile_home_option_is_used_as_is(void **state)
{
	struct profile p;
	struct err e;
	char cwd[4096], *want;
	(void)state;

	assert_int_equal(profile_resolve(&p, "/srv/alice", NULL, &e), 0);
	assert_string_equal(p.dir, "/srv/alice");
	assert_string_equal(p.name, "default");
	profile_clear(&p);
	/* Relative: pinned to the current directory, since the engine
	 * runs from "/". */
	assert_int_equal(profile_resolve(&p, "rel/dir", "bob", &e), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	want = xasprintf("%s/rel/dir", cwd);
	assert_string_equal(p.dir, want);
	assert_string_equal(p.name, "bob");
	free(want);
	profile_clear(&p);
}

static void
test_profile_default_follows_xdg_then_home(void **state)
{
	struct profile p;
	struct err e;
	(void)state;

	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(profile_resolve(&p, NULL, NULL, &e), 0);
	assert_string_equal(p.dir, "/xdg/data/sotto/default");
	profile_clear(&p);
	assert_int_equal(profile_resolve(&p, NULL, "work", &e), 0);
	assert_string_equal(p.dir, "/xdg/data/sotto/work");
	profile_clear(&p);
	/* A relative XDG_DATA_HOME is ignored, as the spec says. */
	setenv("XDG_DATA_HOME", "relative", 1);
	assert_int_equal(profile_resolve(&p, NULL, NULL, &e), 0);
	assert_string_equal(p.dir, "/home/someone/.local/share/sotto/default");
	profile_clear(&p);
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(profile_resolve(&p, NULL, NULL, &e), 0);
	assert_string_equal(p.dir, "/home/someone/.local/share/sotto/default");
	profile_clear(&p);
}

static void
test_profile_refuses_bad_names(void **state)
{
	static const char *const bad[] = {"",   ".hidden", "-opt",  "a/b",
	                                  "..", "sp ace",  "tab\t", "ü"};
	struct profile p;
	struct err e;
	size_t i;
	char long_name[PROFILE_NAME_MAX + 2];
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(profile_resolve(&p, "/x", bad[i], &e), -1);
		assert_int_equal(e.code, ERR_INVALID);
	}
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(profile_resolve(&p, "/x", long_name, &e), -1);
	long_name[PROFILE_NAME_MAX] = '\0';
	assert_int_equal(profile_resolve(&p, "/x", long_name, &e), 0);
	profile_clear(&p);
	assert_int_equal(profile_resolve(&p, "/x", "Work_2.old-1", &e), 0);
	profile_clear(&p);
}

static void
test_profile_prepare_creates_private_directories(void **state)
{
	struct profile p;
	struct stat st;
	struct err e;
	char *home = xasprintf("%s/a/b/profile", base);
	char *parent = xasprintf("%s/a", base);
	(void)state;

	assert_int_equal(profile_resolve(&p, home, NULL, &e), 0);
	assert_int_equal(profile_prepare(&p, &e), 0);
	assert_int_equal(stat(home, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Preparing again is fine. */
	assert_int_equal(profile_prepare(&p, &e), 0);
	profile_clear(&p);
	free(home);
	free(parent);
}

static void
test_profile_refuses_group_or_world_writable(void **state)
{
	static const mode_t bad[] = {0770, 0720, 0707, 0777, 0702};
	struct profile p;
	struct err e;
	char *home = xasprintf("%s/shared", base);
	size_t i;
	(void)state;

	assert_int_equal(mkdir(home, 0700), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(chmod(home, bad[i]), 0);
		assert_int_equal(profile_check_dir(home, &e), -1);
		assert_int_equal(e.code, ERR_AUTH);
		assert_non_null(strstr(e.msg, "writable"));
		assert_int_equal(profile_resolve(&p, home, NULL, &e), 0);
		assert_int_equal(profile_prepare(&p, &e), -1);
		assert_int_equal(e.code, ERR_AUTH);
		profile_clear(&p);
	}
	/* Readable by others is not a reason to refuse. */
	assert_int_equal(chmod(home, 0755), 0);
	assert_int_equal(profile_check_dir(home, &e), 0);
	free(home);
}

static void
test_profile_refuses_directory_owned_by_someone_else(void **state)
{
	struct err e;
	char *dir;
	(void)state;

	if (geteuid() == 0) {
		/* As root we can make one; as anyone else, "/" is one. */
		dir = xasprintf("%s/theirs", base);
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(chown(dir, 65534, 65534), 0);
	} else {
		dir = xstrdup("/");
	}
	assert_int_equal(profile_check_dir(dir, &e), -1);
	assert_int_equal(e.code, ERR_AUTH);
	assert_non_null(strstr(e.msg, "owned"));
	free(dir);
}

static void
test_profile_refuses_non_directory(void **state)
{
	struct profile p;
	struct err e;
	char *file = xasprintf("%s/file", base);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	(void)state;

	close(fd);
	assert_int_equal(profile_check_dir(file, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(profile_resolve(&p, file, NULL, &e), 0);
	assert_int_equal(profile_prepare(&p, &e), -1);
	profile_clear(&p);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_home_option_is_used_as_is),
	    cmocka_unit_test(test_profile_default_follows_xdg_then_home),
	    cmocka_unit_test(test_profile_refuses_bad_names),
	    cmocka_unit_test_setup_teardown(test_profile_prepare_creates_private_directories, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_profile_refuses_group_or_world_writable, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_profile_refuses_directory_owned_by_someone_else,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_profile_refuses_non_directory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
