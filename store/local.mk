# store: the per-profile SQLCipher database (schema, libsignal store
# callbacks, history, contacts, outbox, events). Links SQLCipher, never plain
# SQLite; knows nothing of the network or the screen.
noinst_LIBRARIES += libsottostore.a
libsottostore_a_SOURCES = \
	store/fsutil.c store/fsutil.h \
	store/kdf.c store/kdf.h \
	store/db.c store/db.h \
	store/schema.c store/schema.h \
	store/kv.c store/kv.h \
	store/idstore.c store/idstore.h \
	store/sigstore.c store/sigstore.h \
	store/contacts.c store/contacts.h \
	store/conversations.c store/conversations.h \
	store/history.c store/history.h \
	store/attachments.c store/attachments.h \
	store/outbox.c store/outbox.h \
	store/events.c store/events.h
libsottostore_a_CFLAGS = $(AM_CFLAGS) $(SQLCIPHER_CFLAGS) $(SIGNAL_CFLAGS) $(SODIUM_CFLAGS)

# What a program linking the store needs after its own objects (a program
# that also uses crypto/ puts libsottocrypto.a before these).
STORE_LIBS = libsottostore.a libsottoutil.a $(SQLCIPHER_LIBS) $(SIGNAL_LIBS) $(SODIUM_LIBS)
STORE_CFLAGS = $(SQLCIPHER_CFLAGS) $(SIGNAL_CFLAGS) $(SODIUM_CFLAGS)
STORE_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(STORE_CFLAGS)
STORE_TEST_FIXTURE = tests/store_fixture.c tests/store_fixture.h

STORE_TESTS = tests/test_kdf tests/test_db tests/test_schema tests/test_kv \
	tests/test_idstore tests/test_sigstore tests/test_contacts \
	tests/test_conversations tests/test_history tests/test_attachments \
	tests/test_outbox tests/test_events
check_PROGRAMS += $(STORE_TESTS)
TESTS += $(STORE_TESTS)

tests_test_kdf_SOURCES = tests/test_kdf.c $(STORE_TEST_FIXTURE)
tests_test_kdf_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_kdf_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_db_SOURCES = tests/test_db.c $(STORE_TEST_FIXTURE)
tests_test_db_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_db_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_schema_SOURCES = tests/test_schema.c $(STORE_TEST_FIXTURE)
tests_test_schema_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_schema_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_kv_SOURCES = tests/test_kv.c $(STORE_TEST_FIXTURE)
tests_test_kv_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_kv_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_idstore_SOURCES = tests/test_idstore.c $(STORE_TEST_FIXTURE)
tests_test_idstore_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_idstore_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

# The only store test that needs a crypto provider (a real libsignal
# session over two databases): cprov from crypto/.
tests_test_sigstore_SOURCES = tests/test_sigstore.c $(STORE_TEST_FIXTURE)
tests_test_sigstore_CFLAGS = $(STORE_TEST_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_test_sigstore_LDADD = libsottocrypto.a $(STORE_LIBS) $(LIBCRYPTO_LIBS) -lpthread \
	$(CMOCKA_LIBS)

tests_test_contacts_SOURCES = tests/test_contacts.c $(STORE_TEST_FIXTURE)
tests_test_contacts_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_contacts_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_conversations_SOURCES = tests/test_conversations.c $(STORE_TEST_FIXTURE)
tests_test_conversations_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_conversations_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_history_SOURCES = tests/test_history.c $(STORE_TEST_FIXTURE)
tests_test_history_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_history_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_attachments_SOURCES = tests/test_attachments.c $(STORE_TEST_FIXTURE)
tests_test_attachments_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_attachments_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_outbox_SOURCES = tests/test_outbox.c $(STORE_TEST_FIXTURE)
tests_test_outbox_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_outbox_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

tests_test_events_SOURCES = tests/test_events.c $(STORE_TEST_FIXTURE)
tests_test_events_CFLAGS = $(STORE_TEST_CFLAGS)
tests_test_events_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)
