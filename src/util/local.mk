# util: leaf helpers every layer may use (allocation, errors). Depends on
# nothing of sotto's.
noinst_LIBRARIES += libsottoutil.a
libsottoutil_a_SOURCES = \
	src/util/xmalloc.c src/util/xmalloc.h \
	src/util/err.c src/util/err.h \
	src/util/utf8.c src/util/utf8.h \
	src/util/width.c src/util/width.h \
	src/util/sanitize.c src/util/sanitize.h \
	src/util/fdio.c src/util/fdio.h

check_PROGRAMS += tests/test_util
TESTS += tests/test_util
tests_test_util_SOURCES = tests/test_util.c
tests_test_util_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_util_LDADD = libsottoutil.a $(CMOCKA_LIBS)
