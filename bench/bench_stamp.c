/* bench_stamp: prefixes each line read on standard input with the
 * wall-clock time it arrived, in milliseconds since 1970, so that
 * bench_e2e.sh can time when a frontend was told of a message (the
 * engine's event for it follows the commit).
 * Usage: ... | sotto rpc | bench_stamp >FILE */
#include <stdio.h>
#include <string.h>
#include <time.h>

int
main(void)
{
	char line[65536];
	struct timespec ts;

	while (fgets(line, sizeof line, stdin) != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld %s", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, line);
		if (strchr(line, '\n') == NULL)
			putchar('\n');
		fflush(stdout);
	}
	return 0;
}
