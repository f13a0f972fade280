# Benchmarks: built by `make`, never run by `make check`; they print
# figures and never pass or fail on time.
# bench_crypto runs the same loops on the in-memory store and on a real
# SQLCipher profile, so it links crypto/ and store/ (SQLCipher through
# store/ only, never plain SQLite).
noinst_PROGRAMS += bench/bench_crypto
bench_bench_crypto_SOURCES = bench/bench_crypto.c \
	bench/bench_store_party.c bench/bench_store_party.h $(crypto_memstore_sources)
bench_bench_crypto_CFLAGS = $(AM_CFLAGS) $(STORE_CFLAGS) $(LIBCRYPTO_CFLAGS)
bench_bench_crypto_LDADD = libsottocrypto.a $(STORE_LIBS) $(LIBCRYPTO_LIBS) -lpthread
include bench/relay.mk
