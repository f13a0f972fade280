# The foundation's acceptance test: crypto/ and store/ together, parties
# with real SQLCipher profiles (links SQLCipher, never SQLite).
check_PROGRAMS += tests/test_e2e_store
TESTS += tests/test_e2e_store
tests_test_e2e_store_SOURCES = tests/test_e2e_store.c tests/e2e_party.c tests/e2e_party.h \
	$(STORE_TEST_FIXTURE)
tests_test_e2e_store_CFLAGS = $(STORE_TEST_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_test_e2e_store_LDADD = libsottocrypto.a $(STORE_LIBS) $(LIBCRYPTO_LIBS) -lpthread \
	$(CMOCKA_LIBS)
