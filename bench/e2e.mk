# The end-to-end benchmark: a script driving a real relay and real engines.
# Never run by make check; `make bench-e2e` runs it and prints figures.
EXTRA_DIST += bench/bench_e2e.sh
bench-e2e: sotto$(EXEEXT) sotto-relay$(EXEEXT)
	top_builddir='$(abs_top_builddir)' INTEG_LIMIT=900 bash $(top_srcdir)/bench/bench_e2e.sh
.PHONY: bench-e2e
