/* Benchmark workload: N memfd_create + close pairs, a syscall-heavy loop whose every iteration is a captured event. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	for (long i = 0; i < n; i++) {
		int fd = memfd_create("bench", 0);
		if (fd >= 0)
			close(fd);
	}
	printf("%d %ld\n", getpid(), n);
	return 0;
}
