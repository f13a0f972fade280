/* mosquitto as an external baseline for the relay benchmark: the
 * Debian broker and its command-line clients, when installed. */
#ifndef SOTTO_BENCH_RELAYNET_MQ_H
#define SOTTO_BENCH_RELAYNET_MQ_H

/* A mosquitto broker on a free loopback port (config and data under tmp);
 * n lines of RELAYNET_PEER_CONTENT bytes published at QoS 0 with
 * `mosquitto_pub -l`, counted as they come out of `mosquitto_sub`.
 * Returns msg/s from the start of the publisher to the last line, or -1
 * with why (static text) set. */
double relaynet_mq_rate(const char *tmp, long n, const char **why);

#endif
