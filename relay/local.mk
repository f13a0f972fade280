# relay: the reference relay server sotto-relay. Storage, limits and chaos
# come from the relay-storage fragment included here; this file builds the
# server (libwebsockets + the wire codec) and its integration test.
include relay/rstore.mk

bin_PROGRAMS += sotto-relay
sotto_relay_SOURCES = \
	relay/main.c relay/server.c relay/server.h relay/server_conn.c relay/server_push.c \
	relay/server_commit.c relay/server_sync.c relay/server_http.c \
	relay/handler.c relay/handler.h relay/handler_keys.c relay/handler_send.c
sotto_relay_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(SIGNAL_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(SQLITE_CFLAGS) $(JANSSON_CFLAGS)
sotto_relay_LDADD = libsottorelaystore.a libsottowire.a libsottoutil.a $(LWS_LIBS) \
	$(SIGNAL_LIBS) $(SQLITE_LIBS) $(LIBCRYPTO_LIBS) $(JANSSON_LIBS) -lpthread

# Starts the real sotto-relay and talks to it over real sockets.
check_PROGRAMS += tests/test_relay_integ
TESTS += tests/test_relay_integ
tests_test_relay_integ_SOURCES = tests/test_relay_integ.c tests/relay_fixture.c \
	tests/relay_fixture.h tests/wsclient.c tests/wsclient.h
tests_test_relay_integ_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SIGNAL_CFLAGS) \
	$(LIBCRYPTO_CFLAGS) $(JANSSON_CFLAGS)
tests_test_relay_integ_LDADD = libsottocrypto.a libsottowire.a libsottoutil.a $(SIGNAL_LIBS) \
	$(LIBCRYPTO_LIBS) $(JANSSON_LIBS) $(CMOCKA_LIBS) -lpthread
# The test runs the relay binary: build it first.
EXTRA_tests_test_relay_integ_DEPENDENCIES = sotto-relay$(EXEEXT)
