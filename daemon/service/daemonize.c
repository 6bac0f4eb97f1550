// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/service/daemonize.h"

/* Classic daemonization: the parent exits once the child reports it is ready (or failed),
 * so `iohazardd && iohazard status` works without --foreground. */
int ioh_daemonize(int *ready_fd)
{
	int pipefd[2];
	pid_t pid;
	char status = 1;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(pipefd[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	*ready_fd = pipefd[1];
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

void ioh_daemonize_ready(int *ready_fd)
{
	char ok = 0;

	if (*ready_fd < 0)
		return;
	(void)!write(*ready_fd, &ok, 1);
	close(*ready_fd);
	*ready_fd = -1;
	detach_stdio();
}

/* Whether stderr is the journal stream systemd named in JOURNAL_STREAM ("dev:ino"). */
bool ioh_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
