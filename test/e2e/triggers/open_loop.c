/* Benchmark workload: N open+close pairs of one file (argv[2], default
 * /etc/hostname), optionally paced to argv[3] pairs per second. Prints
 * "pid n seconds": the loop's own time, so a busy observer does not
 * inflate it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	const char *path = argc > 2 ? argv[2] : "/etc/hostname";
	double rate = argc > 3 ? atof(argv[3]) : 0;
	double start = now();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0)
			close(fd);
		if (rate > 0 && i % 64 == 0) {
			double ahead = i / rate - (now() - start);
			if (ahead > 0.0002) {
				struct timespec s = {0, (long)(ahead * 1e9)};
				nanosleep(&s, NULL);
			}
		}
	}
	printf("%d %ld %.6f\n", getpid(), n, now() - start);
	return 0;
}
