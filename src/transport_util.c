/* The pure parts of the relay transport: relay URLs, the reconnect delay,
 * what a response status means as an error, and the certificate pin.
 * Nothing here touches the network, so the tests can pin it down alone. */
#include "transport_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

void
transport_url_clear(struct transport_url *u)
{
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof *u);
}

int
transport_url_parse(const char *url, struct transport_url *u, struct err *e)
{
	const char *p, *host, *host_end, *port_s = NULL, *path;
	size_t plen;
	long port;

	memset(u, 0, sizeof *u);
	if (url == NULL)
		return err_set(e, ERR_INVALID, "no relay URL");
	if (strncmp(url, "ws://", 5) == 0) {
		u->tls = false;
		p = url + 5;
	} else if (strncmp(url, "wss://", 6) == 0) {
		u->tls = true;
		p = url + 6;
	} else {
		return err_set(e, ERR_INVALID, "relay URL must start with ws:// or wss://");
	}
	host = p;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (host_end == NULL)
			return err_set(e, ERR_INVALID, "relay URL: unterminated [address]");
		host++;
		p = host_end + 1;
	} else {
		p += strcspn(p, ":/?#");
		host_end = p;
	}
	if (host_end == host)
		return err_set(e, ERR_INVALID, "relay URL has no host");
	if (*p == ':') {
		port_s = ++p;
		p += strspn(p, "0123456789");
		if (p == port_s)
			return err_set(e, ERR_INVALID, "relay URL: bad port");
	}
	if (*p != '\0' && *p != '/')
		return err_set(e, ERR_INVALID, "relay URL: unexpected '%c'", *p);
	if (strpbrk(p, "?# \t\r\n") != NULL)
		return err_set(e, ERR_INVALID, "relay URL: query, fragment or space in the path");
	port = u->tls ? 443 : 80;
	if (port_s != NULL) {
		port = strtol(port_s, NULL, 10);
		if (port < 1 || port > 65535)
			return err_set(e, ERR_INVALID, "relay URL: port out of range");
	}
	u->port = (int)port;
	u->host = xstrndup(host, (size_t)(host_end - host));
	/* The path is a prefix (a reverse proxy may mount the relay below
	 * one); the protocol's own path is appended unless already there. */
	path = p;
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (plen >= strlen(WIRE_PATH) &&
	    strncmp(path + plen - strlen(WIRE_PATH), WIRE_PATH, strlen(WIRE_PATH)) == 0)
		u->path = xstrndup(path, plen);
	else
		u->path = xasprintf("%.*s%s", (int)plen, path, WIRE_PATH);
	return 0;
}

uint32_t
transport_backoff_ms(uint32_t min_ms, uint32_t max_ms, unsigned attempt)
{
	uint64_t cap = min_ms;
	uint32_t r;

	if (max_ms < min_ms)
		max_ms = min_ms;
	while (attempt-- > 0 && cap < max_ms)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	/* Full jitter: clients knocked off together by a relay restart must
	 * not come back in lock step. */
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (uint32_t)random();
	return (uint32_t)(r % (cap + 1));
}

int
transport_resp_err(const struct wire_frame *resp, struct err *e)
{
	enum err_code code;
	int st = resp->u.resp.status;

	if (st == 200)
		return 0;
	switch (st) {
	case 400:
		code = ERR_INVALID;
		break;
	case 401:
		code = ERR_AUTH;
		break;
	case 403:
		code = strcmp(resp->u.resp.error, "name_taken") == 0 ? ERR_EXISTS : ERR_AUTH;
		break;
	case 404:
	case 410:
		code = ERR_NOTFOUND;
		break;
	case 409:
		code = ERR_STALE;
		break;
	case 413:
		code = ERR_TOOLARGE;
		break;
	case 429:
		code = ERR_RATE;
		break;
	default:
		code = st >= 500 ? ERR_NETWORK : ERR_INVALID;
		break;
	}
	return err_set(e, code, "relay: %d %s: %s", st, resp->u.resp.error, resp->u.resp.message);
}

const char *
transport_state_name(enum transport_state s)
{
	switch (s) {
	case TRANSPORT_OFFLINE:
		return "offline";
	case TRANSPORT_CONNECTING:
		return "connecting";
	case TRANSPORT_CONNECTED:
		return "connected";
	case TRANSPORT_AUTH_FAILED:
		return "auth_failed";
	case TRANSPORT_REPLACED:
		return "replaced";
	case TRANSPORT_REMOVED:
		return "removed";
	case TRANSPORT_FAILED:
		return "failed";
	}
	return "unknown";
}

int
transport_pin_matches(const unsigned char *der, size_t len, const uint8_t pin[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (der == NULL || len == 0 || len > INT_MAX)
		return 0;
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return 0;
	return CRYPTO_memcmp(md, pin, 32) == 0;
}
