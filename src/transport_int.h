/* Internals of the relay transport shared by transport.c and
 * transport_util.c (and the tests); not for other modules. */
#ifndef SOTTO_TRANSPORT_INT_H
#define SOTTO_TRANSPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct transport_url {
	bool tls;
	char *host; /* without brackets */
	int port;
	char *path; /* always ends with WIRE_PATH */
};

/* ws[s]://HOST[:PORT][/PREFIX]; u owns its strings afterwards. */
int transport_url_parse(const char *url, struct transport_url *u, struct err *e);
void transport_url_clear(struct transport_url *u);

/* 1 when SHA-256(der) equals pin, in constant time. */
int transport_pin_matches(const unsigned char *der, size_t len, const uint8_t pin[32]);

#endif
