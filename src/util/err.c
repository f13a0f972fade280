/* Error values with a code and a printable message. */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[128], old[sizeof e->msg];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	/* Truncation is fine here: the message is for people. */
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old) >= (int)sizeof e->msg)
		e->msg[sizeof e->msg - 1] = '\0';
	return -1;
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

const char *
err_code_name(enum err_code code)
{
	static const char *const names[] = {
	    [ERR_OK] = "ok",
	    [ERR_INTERNAL] = "internal",
	    [ERR_INVALID] = "invalid",
	    [ERR_IO] = "io",
	    [ERR_NOSPACE] = "nospace",
	    [ERR_BADKEY] = "badkey",
	    [ERR_CORRUPT] = "corrupt",
	    [ERR_CRYPTO] = "crypto",
	    [ERR_DUPLICATE] = "duplicate",
	    [ERR_NOSESSION] = "nosession",
	    [ERR_UNTRUSTED] = "untrusted",
	    [ERR_NOTFOUND] = "notfound",
	    [ERR_EXISTS] = "exists",
	    [ERR_TOOLARGE] = "toolarge",
	    [ERR_LIMIT] = "limit",
	    [ERR_AUTH] = "auth",
	    [ERR_NETWORK] = "network",
	    [ERR_STALE] = "stale",
	    [ERR_RATE] = "rate",
	    [ERR_BUSY] = "busy",
	};
	if ((size_t)code < sizeof names / sizeof names[0] && names[code] != NULL)
		return names[code];
	return "unknown";
}
