# The end-to-end benchmark: a script driving a real relay and real engines.
# Never run by make check; `make bench-e2e` runs it and prints figures.
# bench_pace writes send requests at a fixed rate for its last phase.
EXTRA_DIST += bench/bench_e2e.sh
# bench_stamp attaches to an engine's socket and times the events it is told.
noinst_PROGRAMS += bench/bench_pace bench/bench_stamp
bench_bench_pace_SOURCES = bench/bench_pace.c
bench_bench_pace_LDADD = libsottocore.a libsottoutil.a -lpthread
bench_bench_stamp_SOURCES = bench/bench_stamp.c
bench_bench_stamp_LDADD = libsottocore.a libsottoutil.a
bench-e2e: sotto$(EXEEXT) sotto-relay$(EXEEXT) bench/bench_pace$(EXEEXT) bench/bench_stamp$(EXEEXT)
	top_builddir='$(abs_top_builddir)' INTEG_LIMIT=900 bash $(top_srcdir)/bench/bench_e2e.sh
.PHONY: bench-e2e
