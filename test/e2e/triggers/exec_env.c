/* sched_process_exec's context: from working directory argv[1], with stdin
 * read from file argv[2], executes argv[3] with arguments "exec-env-child"
 * "x" and an environment holding LD_PRELOAD. Prints "pid" first. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 4 || chdir(argv[1]) != 0)
		return 2;
	int in = open(argv[2], O_RDONLY);
	if (in < 0 || dup2(in, 0) != 0)
		return 3;
	printf("%d\n", getpid());
	fflush(stdout);
	char *child_argv[] = {"exec-env-child", "x", NULL};
	char *envp[] = {"TRC_E2E=1", "LD_PRELOAD=/nonexistent/trc.so", NULL};
	execve(argv[3], child_argv, envp);
	perror("execve");
	return 4;
}
