# msg: the engine's messaging half (sending, receiving, receipts, the
# history and contact methods) and the content codec inside every
# envelope. Linked into the sotto binary by the lead; SQLCipher only.
noinst_LIBRARIES += libsottomsg.a
libsottomsg_a_SOURCES = \
	src/content.c src/content.h \
	src/msg.c src/msg.h src/msg_int.h \
	src/msg_job.c src/msg_send.c src/msg_recv.c src/msg_batch.c \
	src/msg_batch_clock.c src/msg_batch_clock.h \
	src/msg_methods.c src/msg_trust.c src/msg_json.c
libsottomsg_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SIGNAL_CFLAGS) $(SQLCIPHER_CFLAGS) \
	$(LWS_CFLAGS)

check_PROGRAMS += tests/test_content
TESTS += tests/test_content
tests_test_content_SOURCES = tests/test_content.c
tests_test_content_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_test_content_LDADD = libsottomsg.a libsottocrypto.a libsottowire.a libsottoutil.a \
	$(SIGNAL_LIBS) $(LIBCRYPTO_LIBS) $(JANSSON_LIBS) -lpthread $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_msg_batch_clock
TESTS += tests/test_msg_batch_clock
tests_test_msg_batch_clock_SOURCES = tests/test_msg_batch_clock.c
tests_test_msg_batch_clock_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_msg_batch_clock_LDADD = libsottomsg.a $(CMOCKA_LIBS)

# The send/receive tests: real profiles and sessions, an in-process relay
# and stubs for the engine, transport and account.c (tests/test_msg_harness.c).
MSG_TEST_SOURCES = tests/test_msg_harness.c tests/test_msg_harness.h \
	tests/e2e_party.c tests/e2e_party.h $(STORE_TEST_FIXTURE)
MSG_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(LWS_CFLAGS) $(STORE_CFLAGS) \
	$(LIBCRYPTO_CFLAGS)
MSG_TEST_LIBS = libsottomsg.a libsottocrypto.a libsottowire.a $(STORE_LIBS) $(LIBCRYPTO_LIBS) \
	$(JANSSON_LIBS) $(LWS_LIBS) -lpthread $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_msg
TESTS += tests/test_msg
tests_test_msg_SOURCES = tests/test_msg.c $(MSG_TEST_SOURCES)
tests_test_msg_CFLAGS = $(MSG_TEST_CFLAGS)
tests_test_msg_LDADD = $(MSG_TEST_LIBS)

check_PROGRAMS += tests/test_msg_methods
TESTS += tests/test_msg_methods
tests_test_msg_methods_SOURCES = tests/test_msg_methods.c $(MSG_TEST_SOURCES)
tests_test_msg_methods_CFLAGS = $(MSG_TEST_CFLAGS)
tests_test_msg_methods_LDADD = $(MSG_TEST_LIBS)

# End to end: two engines (child processes) on the real sotto-relay.
check_PROGRAMS += tests/test_msg_relay
TESTS += tests/test_msg_relay
tests_test_msg_relay_SOURCES = tests/test_msg_relay.c $(NET_TEST_FIXTURE)
tests_test_msg_relay_CFLAGS = $(NET_TEST_CFLAGS)
tests_test_msg_relay_LDADD = libsottonet.a libsottomsg.a $(NET_LIBS) $(CMOCKA_LIBS)
EXTRA_tests_test_msg_relay_DEPENDENCIES = sotto-relay$(EXEEXT)
