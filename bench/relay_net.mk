# bench_relay_net: the real sotto-relay over WebSockets on loopback
# (throughput durable vs in memory, latency, fan-out, memory per idle
# connection). Built by `make`, never run by `make check`; `make
# bench-relay` runs it and prints figures, never pass/fail.
noinst_PROGRAMS += bench/bench_relay_net
bench_bench_relay_net_SOURCES = bench/bench_relay_net.c bench/relaynet_peer.c \
	bench/relaynet_peer.h bench/relaynet_mq.c bench/relaynet_mq.h bench/relaynet_ws.c \
	bench/relaynet_ws.h
bench_bench_relay_net_CFLAGS = $(AM_CFLAGS) $(SIGNAL_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JANSSON_CFLAGS)
bench_bench_relay_net_LDADD = libsottocrypto.a libsottowire.a libsottoutil.a $(SIGNAL_LIBS) \
	$(LIBCRYPTO_LIBS) $(JANSSON_LIBS) -lpthread

bench-relay: bench/bench_relay_net$(EXEEXT) sotto-relay$(EXEEXT)
	top_builddir='$(abs_top_builddir)' ./bench/bench_relay_net
.PHONY: bench-relay
