# demo: `sotto demo` (src/cmd_demo.c, in the core library with the other
# commands): a private relay, an echo peer and the interface. Its tmux
# test, and the interface's messaging test against a real relay and real
# profiles.
libsottocore_a_SOURCES += src/cmd_demo.c

TESTS += tests/ui_demo.sh tests/ui_messaging.sh
EXTRA_DIST += tests/ui_demo.sh tests/ui_messaging.sh
