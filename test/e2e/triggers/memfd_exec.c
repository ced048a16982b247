/*
 * TRC-105 trigger: copies an executable (argv[1]) into an anonymous memfd and
 * executes it from memory with execveat(fd, "", AT_EMPTY_PATH), as fileless
 * malware does. argv[2] selects fexecve-style /proc/self/fd/N instead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: %s EXECUTABLE [procfd]\n", argv[0]);
		return 2;
	}
	int src = open(argv[1], O_RDONLY);
	int mfd = memfd_create("trc105", MFD_CLOEXEC);
	if (src < 0 || mfd < 0) {
		perror("open/memfd_create");
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof buf)) > 0)
		if (write(mfd, buf, n) != n) {
			perror("write");
			return 1;
		}
	close(src);
	char *child_argv[] = {"fileless", NULL};
	char *envp[] = {NULL};
	if (argc > 2) {
		char path[64];
		/* Without MFD_CLOEXEC semantics getting in the way: re-open by path. */
		snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
		int fd = open(path, O_RDONLY);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		execve(path, child_argv, envp);
	} else {
		syscall(SYS_execveat, mfd, "", child_argv, envp, AT_EMPTY_PATH);
	}
	perror("exec");
	return 1;
}
