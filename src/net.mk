# net: the engine's relay side (engine half 1): the relay transport
# (libwebsockets client on the engine's loop), account registration, unlock
# and key upkeep, and core.c gluing both halves to the engine. SQLCipher
# (through store/) only, never plain SQLite.
noinst_LIBRARIES += libsottonet.a
libsottonet_a_SOURCES = \
	src/transport.c src/transport.h src/transport_int.h src/transport_util.c \
	src/account.c src/account.h src/account_int.h src/account_register.c \
	src/account_keys.c src/core.c src/core.h
libsottonet_a_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(SIGNAL_CFLAGS) $(SQLCIPHER_CFLAGS) $(SODIUM_CFLAGS)
# What a program linking libsottonet.a needs after it (and after
# libsottomsg.a, which uses it), in link order. libssl: the certificate
# pin reads the peer's certificate (lws links it anyway).
NET_LIBS = libsottonet.a libsottocore.a libsottocrypto.a libsottostore.a libsottowire.a \
	libsottoutil.a $(LWS_LIBS) $(JANSSON_LIBS) $(SQLCIPHER_LIBS) $(SIGNAL_LIBS) \
	$(SODIUM_LIBS) $(LIBSSL_LIBS) $(LIBCRYPTO_LIBS) $(QRENCODE_LIBS) -lpthread
NET_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LWS_CFLAGS) $(SIGNAL_CFLAGS) \
	$(LIBCRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(SQLCIPHER_CFLAGS)
NET_TEST_FIXTURE = tests/relay_fixture.c tests/relay_fixture.h tests/wsclient.c \
	tests/wsclient.h

# Both run the real relay on a free loopback port.
check_PROGRAMS += tests/test_transport tests/test_account
TESTS += tests/test_transport tests/test_account

tests_test_transport_SOURCES = tests/test_transport.c $(NET_TEST_FIXTURE)
tests_test_transport_CFLAGS = $(NET_TEST_CFLAGS)
tests_test_transport_LDADD = $(NET_LIBS) $(CMOCKA_LIBS)
EXTRA_tests_test_transport_DEPENDENCIES = sotto-relay$(EXEEXT)

# msg.c is stubbed in the test: it drives the account half alone.
tests_test_account_SOURCES = tests/test_account.c $(NET_TEST_FIXTURE)
tests_test_account_CFLAGS = $(NET_TEST_CFLAGS)
tests_test_account_LDADD = $(NET_LIBS) $(CMOCKA_LIBS)
EXTRA_tests_test_account_DEPENDENCIES = sotto-relay$(EXEEXT)
