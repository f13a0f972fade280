# The sotto program: command table and CLI, the engine (one per profile,
# a libwebsockets loop serving JSON-RPC on a UNIX socket) and the frontend
# side of that socket. Linked into a library so the tests can use it.
noinst_LIBRARIES += libsottocore.a
libsottocore_a_SOURCES = \
	src/cmd.c src/cmd.h src/cmd_help.c src/cmd_params.c src/cmd_remote.c \
	src/cmd_account.c src/cmd_message.c src/cmd_contact.c \
	src/cmd_engine.c src/cmd_info.c src/cmd_ui.c \
	src/profile.c src/profile.h \
	src/ipc.c src/ipc.h \
	src/jsonrpc.c src/jsonrpc.h \
	src/client.c src/client.h \
	src/qr.c src/qr.h \
	src/engine.c src/engine.h src/engine_int.h \
	src/engine_conn.c src/engine_events.c src/engine_methods.c src/engine_timer.c
libsottocore_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LWS_CFLAGS) $(QRENCODE_CFLAGS)
SOTTO_CORE_LIBS = libsottocore.a libsottowire.a libsottoutil.a $(LWS_LIBS) $(JANSSON_LIBS) \
	$(QRENCODE_LIBS)

bin_PROGRAMS += sotto
sotto_SOURCES = src/main.c
sotto_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# net and msg call each other: NET_LIBS names libsottonet.a again.
sotto_LDADD = libsottoui.a libsottonet.a libsottomsg.a $(NET_LIBS) $(NCURSESW_LIBS)

dist_man_MANS += man/sotto.1

# After changing the command table: rewrite the COMMANDS section of
# man/sotto.1 from it (tests/test_cmd fails until the two agree).
update-man: sotto
	$(AM_V_GEN)./sotto --man-commands >man-commands.tmp && \
	awk 'FNR == NR { gen = gen $$0 "\n"; next } \
	     /^\.SH COMMANDS$$/ { printf "%s", gen; skip = 1; next } \
	     skip && /^\.SH / { skip = 0 } !skip' \
	    man-commands.tmp $(srcdir)/man/sotto.1 >sotto.1.tmp && \
	mv sotto.1.tmp $(srcdir)/man/sotto.1 && rm -f man-commands.tmp
.PHONY: update-man

SOTTO_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(LWS_CFLAGS) \
	-DSOTTO_TOP_SRCDIR='"$(abs_top_srcdir)"'

check_PROGRAMS += tests/test_qr
TESTS += tests/test_qr
tests_test_qr_SOURCES = tests/test_qr.c
tests_test_qr_CFLAGS = $(SOTTO_TEST_CFLAGS) $(QRENCODE_CFLAGS)
tests_test_qr_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_cmd tests/test_jsonrpc tests/test_ipc tests/test_profile \
	tests/test_client tests/test_engine
TESTS += tests/test_cmd tests/test_jsonrpc tests/test_ipc tests/test_profile \
	tests/test_client tests/test_engine tests/test_engine_integ.sh
EXTRA_DIST += tests/test_engine_integ.sh

tests_test_cmd_SOURCES = tests/test_cmd.c
tests_test_cmd_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_cmd_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

tests_test_jsonrpc_SOURCES = tests/test_jsonrpc.c
tests_test_jsonrpc_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_jsonrpc_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

tests_test_ipc_SOURCES = tests/test_ipc.c
tests_test_ipc_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_ipc_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

tests_test_profile_SOURCES = tests/test_profile.c
tests_test_profile_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_profile_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

tests_test_client_SOURCES = tests/test_client.c
tests_test_client_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_client_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)

tests_test_engine_SOURCES = tests/test_engine.c
tests_test_engine_CFLAGS = $(SOTTO_TEST_CFLAGS)
tests_test_engine_LDADD = $(SOTTO_CORE_LIBS) $(CMOCKA_LIBS)
