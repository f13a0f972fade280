# crypto: every use of libsignal-protocol-c, behind sotto's own API (OpenSSL
# provider, key generation, sessions, padding, safety numbers). No I/O, no
# SQL: it works on a signal_protocol_store_context someone else fills.
noinst_LIBRARIES += libsottocrypto.a
libsottocrypto_a_SOURCES = \
	crypto/cprov.c crypto/cprov.h \
	crypto/keygen.c crypto/keygen.h \
	crypto/e2e.c crypto/e2e.h \
	crypto/pad.c crypto/pad.h \
	crypto/safety.c crypto/safety.h
libsottocrypto_a_CFLAGS = $(AM_CFLAGS) $(SIGNAL_CFLAGS) $(LIBCRYPTO_CFLAGS)

# What a program linking libsottocrypto.a also needs, in link order.
crypto_link_libs = libsottocrypto.a libsottoutil.a $(SIGNAL_LIBS) $(LIBCRYPTO_LIBS) -lpthread
crypto_test_cflags = $(AM_CFLAGS) $(SIGNAL_CFLAGS) $(LIBCRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
# The in-memory libsignal stores used by the crypto tests and the benchmark.
crypto_memstore_sources = tests/memstore.c tests/memstore.h

check_PROGRAMS += tests/test_cprov tests/test_pad tests/test_safety tests/test_keygen \
	tests/test_e2e
TESTS += tests/test_cprov tests/test_pad tests/test_safety tests/test_keygen tests/test_e2e

tests_test_cprov_SOURCES = tests/test_cprov.c
tests_test_cprov_CFLAGS = $(crypto_test_cflags)
tests_test_cprov_LDADD = $(crypto_link_libs) $(CMOCKA_LIBS)

tests_test_pad_SOURCES = tests/test_pad.c
tests_test_pad_CFLAGS = $(crypto_test_cflags)
tests_test_pad_LDADD = $(crypto_link_libs) $(CMOCKA_LIBS)

tests_test_safety_SOURCES = tests/test_safety.c
tests_test_safety_CFLAGS = $(crypto_test_cflags)
tests_test_safety_LDADD = $(crypto_link_libs) $(CMOCKA_LIBS)

tests_test_keygen_SOURCES = tests/test_keygen.c $(crypto_memstore_sources)
tests_test_keygen_CFLAGS = $(crypto_test_cflags)
tests_test_keygen_LDADD = $(crypto_link_libs) $(CMOCKA_LIBS)

tests_test_e2e_SOURCES = tests/test_e2e.c $(crypto_memstore_sources)
tests_test_e2e_CFLAGS = $(crypto_test_cflags)
tests_test_e2e_LDADD = $(crypto_link_libs) $(CMOCKA_LIBS)
