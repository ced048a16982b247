/* Benchmark workload: N fork+execve of argv[2] (default /bin/true), each
 * waited for. Prints "pid n seconds". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	char *path = argc > 2 ? argv[2] : "/bin/true";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			char *av[] = {path, NULL}, *ev[] = {NULL};
			execve(path, av, ev);
			_exit(127);
		}
		int st;
		if (p < 0 || waitpid(p, &st, 0) < 0)
			return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%d %ld %.6f\n", getpid(), n, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
