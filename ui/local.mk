# ui: the full-screen ncurses frontend. It only draws and reads keys; it
# talks to the profile's engine over its socket (src/client.h). Only this
# directory includes ncurses. The pure parts (sanitising, widths, wrap,
# the line editor, the message window) have no ncurses and are unit-tested.
noinst_LIBRARIES += libsottoui.a
libsottoui_a_SOURCES = \
	ui/wrap.c ui/wrap.h \
	ui/editor.c ui/editor.h \
	ui/buffer.c ui/buffer.h \
	ui/convlist.c ui/convlist.h \
	ui/theme.c ui/theme.h \
	ui/notify.c ui/notify.h \
	ui/screen.c ui/screen_draw.c ui/screen.h ui/screen_int.h \
	ui/app.c ui/app_cmd.c ui/app_events.c ui/app_send.c ui/app_search.c \
	ui/app.h
libsottoui_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(NCURSESW_CFLAGS)
SOTTO_UI_LIBS = libsottoui.a $(SOTTO_CORE_LIBS)

SOTTO_UI_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)

check_PROGRAMS += tests/test_sanitize tests/test_wrap tests/test_editor \
	tests/test_ui_buffer tests/test_ui_convlist tests/test_ui_theme
TESTS += tests/test_sanitize tests/test_wrap tests/test_editor \
	tests/test_ui_buffer tests/test_ui_convlist tests/test_ui_theme \
	tests/ui_smoke.sh $(SOTTO_UI_TMUX_TESTS)
# Driven through tmux against a real relay and real engines.
SOTTO_UI_TMUX_TESTS = tests/ui_unlock.sh tests/ui_identity.sh tests/ui_search.sh \
	tests/ui_pair.sh tests/ui_shared.sh tests/ui_compose.sh tests/ui_wide.sh \
	tests/ui_offline.sh tests/ui_add.sh
EXTRA_DIST += tests/ui_smoke.sh tests/ui_lib.sh $(SOTTO_UI_TMUX_TESTS)

tests_test_sanitize_SOURCES = tests/test_sanitize.c
tests_test_sanitize_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_sanitize_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

tests_test_wrap_SOURCES = tests/test_wrap.c
tests_test_wrap_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_wrap_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

tests_test_editor_SOURCES = tests/test_editor.c
tests_test_editor_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_editor_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

tests_test_ui_buffer_SOURCES = tests/test_ui_buffer.c
tests_test_ui_buffer_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_ui_buffer_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

tests_test_ui_convlist_SOURCES = tests/test_ui_convlist.c
tests_test_ui_convlist_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_ui_convlist_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

tests_test_ui_theme_SOURCES = tests/test_ui_theme.c
tests_test_ui_theme_CFLAGS = $(SOTTO_UI_TEST_CFLAGS)
tests_test_ui_theme_LDADD = $(SOTTO_UI_LIBS) $(CMOCKA_LIBS)

# Figures for the pure parts (sanitise, wrap, window open, relayout);
# built by make, never run by make check.
noinst_PROGRAMS += bench/bench_ui
bench_bench_ui_SOURCES = bench/bench_ui.c
bench_bench_ui_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_bench_ui_LDADD = $(SOTTO_UI_LIBS)
