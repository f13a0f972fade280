/* sotto: entry point. The engine, CLI and UI arrive with their issues;
 * until then this answers --version and --help honestly. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("sotto %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "demo") == 0) {
		fprintf(stderr, "sotto: 'demo' is not yet available in this build\n");
		return 69;
	}
	fprintf(stderr, "usage: sotto --version | demo\n");
	return 64;
}
