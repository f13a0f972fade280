# Benchmarks: built by `make`, never run by `make check`; they print
# figures and never pass or fail on time.
noinst_PROGRAMS += bench/bench_crypto
bench_bench_crypto_SOURCES = bench/bench_crypto.c $(crypto_memstore_sources)
bench_bench_crypto_CFLAGS = $(AM_CFLAGS) $(SIGNAL_CFLAGS) $(LIBCRYPTO_CFLAGS)
bench_bench_crypto_LDADD = $(crypto_link_libs)
include bench/relay.mk
