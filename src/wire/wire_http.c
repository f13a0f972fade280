/* The Authorization header of the blob endpoint:
 * "Sotto ACCOUNT.DEVICE:B64(secret)". The account name cannot contain ':'
 * but may contain '.', so the device id is the part after the last '.'. */
#include "wire/wire.h"

#include <string.h>

#include "wire/b64.h"

int
wire_http_auth_parse(const char *value, char account[WIRE_NAME_MAX + 1], uint32_t *device,
                     uint8_t secret[WIRE_SECRET_LEN], struct err *e)
{
	const char *p, *colon, *dot, *d;
	size_t name_len;
	uint64_t dev = 0;

	if (strncmp(value, "Sotto ", 6) != 0)
		return err_set(e, ERR_AUTH, "authorization: expected scheme \"Sotto\"");
	p = value + 6;
	colon = strchr(p, ':');
	if (colon == NULL)
		return err_set(e, ERR_AUTH, "authorization: missing ':'");
	dot = memrchr(p, '.', (size_t)(colon - p));
	if (dot == NULL || dot + 1 == colon)
		return err_set(e, ERR_AUTH, "authorization: expected ACCOUNT.DEVICE");
	name_len = (size_t)(dot - p);
	if (name_len == 0 || name_len > WIRE_NAME_MAX)
		return err_set(e, ERR_AUTH, "authorization: bad account name");
	memcpy(account, p, name_len);
	account[name_len] = '\0';
	if (!wire_name_valid(account))
		return err_set(e, ERR_AUTH, "authorization: bad account name");
	for (d = dot + 1; d < colon; d++) {
		if (*d < '0' || *d > '9' || (d == dot + 1 && *d == '0') || d - dot > 10)
			return err_set(e, ERR_AUTH, "authorization: bad device id");
		dev = dev * 10 + (uint64_t)(*d - '0');
	}
	if (dev < 1 || dev > WIRE_DEVICE_MAX)
		return err_set(e, ERR_AUTH, "authorization: bad device id");
	*device = (uint32_t)dev;
	if (b64_decode_exact(colon + 1, strlen(colon + 1), secret, WIRE_SECRET_LEN, NULL) < 0)
		return err_set(e, ERR_AUTH, "authorization: bad secret");
	return 0;
}

char *
wire_http_auth_build(const char *account, uint32_t device, const uint8_t secret[WIRE_SECRET_LEN])
{
	char *b64 = b64_encode(secret, WIRE_SECRET_LEN);
	char *s = xasprintf("Sotto %s.%u:%s", account, device, b64);

	wipe_free_str(b64);
	return s;
}
