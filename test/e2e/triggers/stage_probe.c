/* Trigger for the per-CPU record stage (bpf/common/stage.h).
 *
 *   stage_probe spin PATH MS     on the last CPU, as a real-time task (no
 *                                other task takes that CPU from it, for up
 *                                to the kernel's RT limit, 0.95 s of each
 *                                second by default): open PATH once, then
 *                                spin MS milliseconds in user space with no
 *                                syscall. Its record must still come out
 *                                while it spins.
 *   stage_probe migrate PATH N   N times: move to the other CPU
 *                                (sched_setaffinity), then open PATH.i:
 *                                the records must come out in order.
 *
 * Prints "pid" when done. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t); /* vDSO: no syscall */
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
	if (argc < 4)
		return 2;
	if (strcmp(argv[1], "spin") == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) - 1, &set);
		struct sched_param rt = { .sched_priority = 10 };
		if (sched_setaffinity(0, sizeof set, &set) || sched_setscheduler(0, SCHED_FIFO, &rt))
			return 4;
		int fd = open(argv[2], O_RDONLY);
		if (fd >= 0)
			close(fd);
		double end = now_ms() + atof(argv[3]);
		volatile unsigned long x = 0;
		while (now_ms() < end)
			x++;
	} else if (strcmp(argv[1], "migrate") == 0) {
		long n = atol(argv[3]);
		int cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (cpus < 2)
			return 3;
		char path[4096];
		for (long i = 0; i < n; i++) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(i % 2, &set);
			if (sched_setaffinity(0, sizeof set, &set))
				return 4;
			snprintf(path, sizeof path, "%s.%ld", argv[2], i);
			int fd = open(path, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
	} else {
		return 2;
	}
	printf("%d\n", getpid());
	return 0;
}
