/* --chaos: strict parsing of the fault spec and per-push decisions from a
 * small seeded PRNG (xorshift64*), so a run can be replayed from its seed. */
#include "relay/chaos.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum chaos_key { KEY_DROP, KEY_DELAY, KEY_DUP, KEY_REORDER, KEY_SEED, KEY_COUNT };

static const char *const chaos_key_names[KEY_COUNT] = {
    [KEY_DROP] = "drop",       [KEY_DELAY] = "delay", [KEY_DUP] = "dup",
    [KEY_REORDER] = "reorder", [KEY_SEED] = "seed",
};

/* A probability: plain decimal digits with at most one '.', in [0,1].
 * strtod alone would also take "inf", "0x1p-1", " 0.5" or "1e-1". */
static int
chaos_parse_prob(const char *key, const char *v, size_t len, double *out, struct err *e)
{
	char buf[32];
	size_t i, dots = 0, digits = 0;
	char *end;
	double d;

	if (len == 0 || len >= sizeof buf)
		return err_set(e, ERR_INVALID, "chaos: %s: expected a probability in [0,1]", key);
	for (i = 0; i < len; i++) {
		if (v[i] == '.')
			dots++;
		else if (isdigit((unsigned char)v[i]))
			digits++;
		else
			return err_set(e, ERR_INVALID, "chaos: %s: bad probability '%.*s'", key,
			               (int)len, v);
	}
	if (dots > 1 || digits == 0)
		return err_set(e, ERR_INVALID, "chaos: %s: bad probability '%.*s'", key, (int)len,
		               v);
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < 0.0 || d > 1.0)
		return err_set(e, ERR_INVALID, "chaos: %s: probability '%s' not in [0,1]", key,
		               buf);
	*out = d;
	return 0;
}

/* An unsigned decimal integer no larger than max. */
static int
chaos_parse_uint(const char *key, const char *v, size_t len, uint64_t max, uint64_t *out,
                 struct err *e)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0)
		return err_set(e, ERR_INVALID, "chaos: %s: expected a number", key);
	for (i = 0; i < len; i++) {
		unsigned dig;
		if (!isdigit((unsigned char)v[i]))
			return err_set(e, ERR_INVALID, "chaos: %s: bad number '%.*s'", key,
			               (int)len, v);
		dig = (unsigned)(v[i] - '0');
		if (x > (max - dig) / 10)
			return err_set(e, ERR_INVALID, "chaos: %s: '%.*s' is larger than %llu", key,
			               (int)len, v, (unsigned long long)max);
		x = x * 10 + dig;
	}
	*out = x;
	return 0;
}

int
chaos_parse(const char *text, struct chaos_spec *out, struct err *e)
{
	struct chaos_spec spec;
	int seen[KEY_COUNT] = {0};
	const char *p = text;

	memset(&spec, 0, sizeof spec);
	if (text == NULL || *text == '\0')
		return err_set(e, ERR_INVALID,
		               "chaos: empty spec (expected drop=P,delay=MS,dup=P,reorder=P)");
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t itemlen = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', itemlen);
		const char *val;
		size_t keylen, vallen;
		uint64_t u;
		int k;

		if (eq == NULL)
			return err_set(e, ERR_INVALID, "chaos: '%.*s': expected KEY=VALUE",
			               (int)itemlen, p);
		keylen = (size_t)(eq - p);
		val = eq + 1;
		vallen = itemlen - keylen - 1;
		for (k = 0; k < KEY_COUNT; k++)
			if (strlen(chaos_key_names[k]) == keylen &&
			    memcmp(chaos_key_names[k], p, keylen) == 0)
				break;
		if (k == KEY_COUNT)
			return err_set(e, ERR_INVALID,
			               "chaos: unknown key '%.*s' (known: drop, delay, dup, "
			               "reorder, seed)",
			               (int)keylen, p);
		if (seen[k]++)
			return err_set(e, ERR_INVALID, "chaos: '%s' given twice",
			               chaos_key_names[k]);
		switch (k) {
		case KEY_DROP:
			if (chaos_parse_prob("drop", val, vallen, &spec.drop, e) < 0)
				return -1;
			break;
		case KEY_DUP:
			if (chaos_parse_prob("dup", val, vallen, &spec.dup, e) < 0)
				return -1;
			break;
		case KEY_REORDER:
			if (chaos_parse_prob("reorder", val, vallen, &spec.reorder, e) < 0)
				return -1;
			break;
		case KEY_DELAY:
			if (chaos_parse_uint("delay", val, vallen, CHAOS_MAX_DELAY_MS, &u, e) < 0)
				return -1;
			spec.delay_ms = (uint32_t)u;
			break;
		case KEY_SEED:
			if (chaos_parse_uint("seed", val, vallen, UINT64_MAX, &spec.seed, e) < 0)
				return -1;
			spec.has_seed = 1;
			break;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = spec;
	return 0;
}

void
chaos_init(struct chaos *c, const struct chaos_spec *spec, uint64_t seed)
{
	uint64_t z;

	c->spec = *spec;
	/* splitmix64 of the seed: nearby seeds give unrelated streams, and the
	 * xorshift state must not be 0. */
	z = (spec->has_seed ? spec->seed : seed) + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	c->rng = z ? z : 0x2545f4914f6cdd1dULL;
}

/* Uniform double in [0,1) from the top 53 bits of xorshift64*. */
static double
chaos_uniform(struct chaos *c)
{
	uint64_t x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) * (1.0 / 9007199254740992.0);
}

void
chaos_decide(struct chaos *c, struct chaos_decision *out)
{
	/* Always draw all three numbers so one probability does not shift the
	 * stream the others see: changing drop= keeps the dup pattern. */
	double rdrop = chaos_uniform(c), rdup = chaos_uniform(c), rreorder = chaos_uniform(c);

	out->delay_ms = c->spec.delay_ms;
	if (rdrop < c->spec.drop) {
		out->action = CHAOS_DROP;
		out->delay_ms = 0;
	} else if (rdup < c->spec.dup) {
		out->action = CHAOS_DUPLICATE;
	} else if (rreorder < c->spec.reorder) {
		out->action = CHAOS_HOLD;
	} else {
		out->action = CHAOS_SEND;
	}
}

int
chaos_is_noop(const struct chaos_spec *spec)
{
	return spec->drop == 0.0 && spec->dup == 0.0 && spec->reorder == 0.0 && spec->delay_ms == 0;
}
