/* cgroup_mkdir/cgroup_rmdir: creates and removes cgroup directory argv[1].
 * Prints "pid". */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2 || mkdir(argv[1], 0755) != 0) {
		perror("mkdir");
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0 || rmdir(argv[1]) != 0)
		return 3;
	printf("%d %llu\n", getpid(), (unsigned long long)st.st_ino);
	return 0;
}
