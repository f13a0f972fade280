/* mosquitto QoS 0 throughput through its own command-line clients, as an
 * outside reference for bench_relay_net: no libmosquitto, only the
 * mosquitto and mosquitto-clients packages when they are installed. */
#include "bench/relaynet_mq.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/relaynet_peer.h"

static int
relaynet_mq_exe(const char *path)
{
	return access(path, X_OK) == 0;
}

double
relaynet_mq_rate(const char *tmp, long n, const char **why)
{
	char conf[600], lines[600], port_s[16], buf[65536];
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	pid_t broker, sub, pub;
	int fd, pipefd[2], status, tries;
	long got = -1, i;
	uint64_t t0, last = 0, now;
	FILE *fp;
	ssize_t k;
	ssize_t j;

	if (!relaynet_mq_exe("/usr/sbin/mosquitto") || !relaynet_mq_exe("/usr/bin/mosquitto_pub") ||
	    !relaynet_mq_exe("/usr/bin/mosquitto_sub")) {
		*why = "mosquitto and mosquitto-clients are not installed";
		return -1;
	}
	/* A free port: bind to 0, read it, let it go. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		*why = "no free port";
		return -1;
	}
	close(fd);
	snprintf(port_s, sizeof port_s, "%d", ntohs(sa.sin_port));
	snprintf(conf, sizeof conf, "%s/mosquitto.conf", tmp);
	snprintf(lines, sizeof lines, "%s/mosquitto.lines", tmp);
	if ((fp = fopen(conf, "w")) == NULL)
		relaynet_peer_die("%s: cannot write", conf);
	fprintf(fp, "listener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\n", port_s);
	fclose(fp);
	if ((fp = fopen(lines, "w")) == NULL)
		relaynet_peer_die("%s: cannot write", lines);
	memset(buf, 'x', RELAYNET_PEER_CONTENT);
	buf[RELAYNET_PEER_CONTENT] = '\0';
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\n", buf);
	fclose(fp);

	if ((broker = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	/* Wait until the broker listens. */
	for (tries = 0; tries < 100; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		status = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
		if (status == 0)
			break;
		poll(NULL, 0, 50);
	}
	if (pipe(pipefd) < 0)
		relaynet_peer_die("pipe: %s", strerror(errno));
	if ((sub = fork()) == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl("/usr/bin/mosquitto_sub", "mosquitto_sub", "-h", "127.0.0.1", "-p", port_s,
		      "-t", "bench", "-q", "0", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* Publish a probe until the subscriber shows it: then it listens. */
	for (tries = 0; tries < 50 && got < 0; tries++) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		if ((pub = fork()) == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 2);
			execl("/usr/bin/mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p",
			      port_s, "-t", "bench", "-m", "probe", (char *)NULL);
			_exit(127);
		}
		waitpid(pub, &status, 0);
		if (poll(&pfd, 1, 200) > 0 && read(pipefd[0], buf, sizeof buf) > 0)
			got = 0;
	}
	if (got < 0) {
		*why = "the mosquitto broker did not come up";
	} else {
		/* Drop late probes, then time the real run. */
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		while (poll(&pfd, 1, 300) > 0 && read(pipefd[0], buf, sizeof buf) > 0)
			;
		t0 = relaynet_peer_now_ns();
		if ((pub = fork()) == 0) {
			int in = open(lines, O_RDONLY);
			dup2(in, 0);
			execl("/usr/bin/mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p",
			      port_s, "-t", "bench", "-q", "0", "-l", (char *)NULL);
			_exit(127);
		}
		while (got < n && poll(&pfd, 1, 3000) > 0 &&
		       (k = read(pipefd[0], buf, sizeof buf)) > 0) {
			now = relaynet_peer_now_ns();
			for (j = 0; j < k; j++)
				if (buf[j] == '\n')
					got++;
			last = now;
		}
		waitpid(pub, &status, 0);
	}
	close(pipefd[0]);
	kill(sub, SIGTERM);
	waitpid(sub, &status, 0);
	kill(broker, SIGTERM);
	waitpid(broker, &status, 0);
	unlink(lines);
	if (got < 0)
		return -1;
	if (got < n) {
		printf("  (mosquitto: %ld of %ld messages arrived; QoS 0 may drop)\n", got, n);
		if (got == 0) {
			*why = "nothing arrived";
			return -1;
		}
	}
	return (double)got * 1e9 / (double)(last - t0);
}
