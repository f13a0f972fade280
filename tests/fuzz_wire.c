/* Fuzz harness for the wire codec: any input either fails to parse or
 * parses into a frame that builds, parses back and builds to the same text.
 * Under libFuzzer (`make fuzz`) it is LLVMFuzzerTestOneInput; built with
 * FUZZ_WIRE_MAIN it is a plain program that runs the seed corpus plus
 * deterministic truncations and byte flips of each seed (make check). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "wire/b64.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_wire_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_wire: %s: %s\n", what, detail);
	abort();
}

static void
fuzz_wire_http(const uint8_t *data, size_t size)
{
	char account[WIRE_NAME_MAX + 1];
	uint8_t secret[WIRE_SECRET_LEN];
	uint32_t device;
	char *s = xstrndup((const char *)data, size);

	if (wire_http_auth_parse(s, account, &device, secret, NULL) == 0 &&
	    !wire_name_valid(account))
		fuzz_wire_die("http auth", "accepted an invalid name");
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_frame f, g;
	struct err e = {0};
	size_t len, len2, n;
	char *s, *s2;
	uint8_t *raw;

	if (b64_decode((const char *)data, size, &raw, &n, NULL) == 0) {
		s = b64_encode(raw, n);
		if (strlen(s) != size || memcmp(s, data, size) != 0)
			fuzz_wire_die("base64", "decode/encode is not the identity");
		free(s);
		free(raw);
	}
	fuzz_wire_http(data, size);

	if (wire_parse((const char *)data, size, &f, &e) < 0) {
		if (e.code != ERR_INVALID && e.code != ERR_TOOLARGE)
			fuzz_wire_die("parse error code", err_code_name(e.code));
		return 0;
	}
	s = wire_build(&f, &len, &e);
	if (s == NULL)
		fuzz_wire_die("build of a parsed frame", e.msg);
	if (wire_parse(s, len, &g, &e) < 0)
		fuzz_wire_die("parse of a built frame", e.msg);
	s2 = wire_build(&g, &len2, &e);
	if (s2 == NULL || len != len2 || strcmp(s, s2) != 0)
		fuzz_wire_die("round trip", s);
	free(s);
	free(s2);
	wire_frame_free(&f);
	wire_frame_free(&g);
	return 0;
}

#ifdef FUZZ_WIRE_MAIN
static uint8_t *
fuzz_wire_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* The seed, every prefix of it, and each byte replaced by a few values
 * that matter to JSON. */
static void
fuzz_wire_mutations(const uint8_t *seed, size_t len)
{
	static const uint8_t subst[] = {0, '"', '\\', '{', ']', 0x80, 0xff, '9'};
	uint8_t *copy = xmalloc(len + 1);
	size_t i, k;

	LLVMFuzzerTestOneInput(seed, len);
	for (i = 0; i < len; i++)
		LLVMFuzzerTestOneInput(seed, i);
	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof subst; k++) {
			memcpy(copy, seed, len);
			copy[i] = subst[k];
			LLVMFuzzerTestOneInput(copy, len);
		}
	}
	free(copy);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char *dir =
	    argc > 1 ? xstrdup(argv[1]) : xasprintf("%s/tests/corpus/wire", top ? top : ".");
	struct dirent *de;
	size_t len, seeds = 0;
	uint8_t *buf;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		buf = fuzz_wire_read(path, &len);
		fuzz_wire_mutations(buf, len);
		free(buf);
		free(path);
		seeds++;
	}
	closedir(d);
	free(dir);
	if (seeds == 0) {
		fprintf(stderr, "fuzz_wire: empty corpus\n");
		return 1;
	}
	printf("fuzz_wire: %zu seeds and their mutations ran clean\n", seeds);
	return 0;
}
#endif
