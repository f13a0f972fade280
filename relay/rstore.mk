# relay storage, limits and chaos (libsottorelaystore.a), their tests, the
# relay's man page and systemd unit. Plain SQLite only: never SQLCipher.
# Users link: libsottorelaystore.a libsottoutil.a $(SQLITE_LIBS) $(LIBCRYPTO_LIBS)
noinst_LIBRARIES += libsottorelaystore.a
libsottorelaystore_a_SOURCES = \
	relay/rstore.h relay/rstore_db.h \
	relay/rstore.c relay/rstore_db.c relay/rstore_schema.c \
	relay/rstore_account.c relay/rstore_device.c relay/rstore_prekey.c \
	relay/rstore_queue.c relay/rstore_send.c relay/rstore_blob.c \
	relay/chaos.c relay/chaos.h \
	relay/ratelimit.c relay/ratelimit.h
libsottorelaystore_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS)

check_PROGRAMS += tests/test_rstore tests/test_rstore_blob tests/test_rstore_sync tests/test_chaos \
	tests/test_ratelimit
TESTS += tests/test_rstore tests/test_rstore_blob tests/test_rstore_sync tests/test_chaos \
	tests/test_ratelimit

rstore_test_libs = libsottorelaystore.a libsottoutil.a $(SQLITE_LIBS) $(LIBCRYPTO_LIBS) \
	$(CMOCKA_LIBS)

tests_test_rstore_SOURCES = tests/test_rstore.c tests/rstore_fixture.c tests/rstore_fixture.h
tests_test_rstore_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE_CFLAGS)
tests_test_rstore_LDADD = $(rstore_test_libs)

tests_test_rstore_blob_SOURCES = tests/test_rstore_blob.c tests/rstore_fixture.c \
	tests/rstore_fixture.h
tests_test_rstore_blob_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE_CFLAGS)
tests_test_rstore_blob_LDADD = $(rstore_test_libs)

tests_test_rstore_sync_SOURCES = tests/test_rstore_sync.c tests/rstore_fixture.c \
	tests/rstore_fixture.h
tests_test_rstore_sync_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE_CFLAGS)
tests_test_rstore_sync_LDADD = $(rstore_test_libs)

tests_test_chaos_SOURCES = tests/test_chaos.c
tests_test_chaos_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_chaos_LDADD = libsottorelaystore.a libsottoutil.a $(CMOCKA_LIBS)

tests_test_ratelimit_SOURCES = tests/test_ratelimit.c
tests_test_ratelimit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ratelimit_LDADD = libsottorelaystore.a libsottoutil.a $(CMOCKA_LIBS)

dist_man_MANS += man/sotto-relay.8
EXTRA_DIST += relay/sotto-relay.service
