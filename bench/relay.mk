# bench_relay: the relay's storage throughput (group commit in batches of
# 1, 64, 1024 on a durable file vs in memory). Prints figures, never fails
# on time. Included from bench/local.mk.
noinst_PROGRAMS += bench/bench_relay
bench_bench_relay_SOURCES = bench/bench_relay.c
bench_bench_relay_CFLAGS = $(AM_CFLAGS)
bench_bench_relay_LDADD = libsottorelaystore.a libsottoutil.a $(SQLITE_LIBS) $(LIBCRYPTO_LIBS)
