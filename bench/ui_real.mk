# The UI's figures on the real programs: a relay, an engine holding
# 100,000 messages of history and the full-screen UI in tmux. Built by
# make, never run by make check; `make bench-ui` prints the figures.
# bench_fill_history writes the bench's set-up data straight into a
# stopped profile's database: SQLCipher through store/ only.
noinst_PROGRAMS += bench/bench_fill_history
bench_bench_fill_history_SOURCES = bench/bench_fill_history.c
bench_bench_fill_history_CFLAGS = $(AM_CFLAGS) $(STORE_CFLAGS)
bench_bench_fill_history_LDADD = $(STORE_LIBS)

EXTRA_DIST += bench/bench_ui_real.sh
bench-ui: sotto$(EXEEXT) sotto-relay$(EXEEXT) bench/bench_fill_history$(EXEEXT)
	top_builddir='$(abs_top_builddir)' bash $(top_srcdir)/bench/bench_ui_real.sh
.PHONY: bench-ui
