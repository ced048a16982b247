/* security_sb_mount: mounts a tmpfs on directory argv[1] (given relative to
 * argv[2], the working directory) with MS_NOSUID, then unmounts it. Needs
 * root. Prints "pid". */
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 3 || chdir(argv[2]) != 0)
		return 2;
	if (mount("trcnone", argv[1], "tmpfs", MS_NOSUID, "size=64k") != 0) {
		perror("mount");
		return 3;
	}
	umount(argv[1]);
	printf("%d\n", getpid());
	return 0;
}
