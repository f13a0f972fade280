/* sotto: entry point. Everything the command line can do is in the
 * command table (cmd.c); this only sets the process up and dispatches. */
#include "cmd.h"
#include "core.h"
#include "jsonrpc.h"
#include "ui/app.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Make sure 0, 1 and 2 are open, so no socket or pipe we open later can
 * land on them and receive stray output. */
static void
main_reserve_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx = {0};
	int status;

	main_reserve_std_fds();
	/* Before any JSON exists: lines may carry the passphrase. */
	jsonrpc_use_wiping_allocator();
	ctx.in = stdin;
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.core_new = core_new;
	ctx.core_free = core_free;
	ctx.ui_main = ui_cmd_main;
	status = cmd_run(&ctx, argc, argv);
	cmd_ctx_clear(&ctx);
	if (fflush(stdout) != 0 && status == CMD_EXIT_OK)
		status = CMD_EXIT_TEMPFAIL;
	return status;
}
