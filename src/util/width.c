/* Display width of UTF-8 text. wcwidth() is authoritative when the locale
 * is UTF-8; otherwise (a test or a misconfigured terminal) a small table
 * of combining and East Asian wide ranges stands in, so layout stays sane. */
#include "util/width.h"

#include "util/utf8.h"

#include <langinfo.h>
#include <string.h>
#include <wchar.h>

struct width_range {
	uint32_t lo, hi;
};

static const struct width_range width_zero[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
    {0x064b, 0x065f}, {0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x1ab0, 0x1aff},
    {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x2060, 0x2064}, {0x20d0, 0x20ff},
    {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0000, 0xe0fff},
};

static const struct width_range width_wide[] = {
    {0x1100, 0x115f}, {0x2e80, 0x303e},   {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},
    {0xa000, 0xa4cf}, {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe30, 0xfe4f},   {0xff00, 0xff60},
    {0xffe0, 0xffe6}, {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
};

static int
width_in(const struct width_range *r, size_t n, uint32_t cp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return 1;
	return 0;
}

static int
width_locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int
width_cp(uint32_t cp)
{
	int w;

	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return -1;
	if (cp < 0x7f)
		return 1;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (width_locale_is_utf8()) {
		w = wcwidth((wchar_t)cp);
		/* Soft hyphen and friends: the terminal decides; say 1. */
		return w > 2 ? 1 : w;
	}
	if (width_in(width_zero, sizeof width_zero / sizeof width_zero[0], cp))
		return 0;
	if (width_in(width_wide, sizeof width_wide / sizeof width_wide[0], cp))
		return 2;
	return 1;
}

size_t
width_str(const char *s, size_t len)
{
	size_t pos = 0, cols = 0;
	uint32_t cp;
	int w;

	while (pos < len) {
		pos += utf8_decode(s + pos, len - pos, &cp);
		w = cp == UTF8_INVALID ? 1 : width_cp(cp);
		cols += w < 0 ? 1 : (size_t)w;
	}
	return cols;
}

size_t
width_fit(const char *s, size_t len, size_t cols, size_t *used)
{
	size_t pos = 0, n, have = 0;
	uint32_t cp;
	int w;

	while (pos < len) {
		n = utf8_decode(s + pos, len - pos, &cp);
		w = cp == UTF8_INVALID ? 1 : width_cp(cp);
		if (w < 0)
			w = 1;
		if (have + (size_t)w > cols)
			break;
		have += (size_t)w;
		pos += n;
	}
	if (used != NULL)
		*used = have;
	return pos;
}
