/* Derived file events: in directory argv[1], writes an ELF header to a new
 * file (security_file_open + magic_write), opens it again with openat,
 * renames it twice (rename, renameat2 with a dirfd) and unlinks it.
 * Prints "pid". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2 || chdir(argv[1]) != 0)
		return 2;
	static const char elf[] = "\x7f" "ELF" "\x02\x01\x01" "-tracee-magic-write";
	int fd = open("a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, elf, sizeof elf - 1) != sizeof elf - 1)
		return 3;
	close(fd);
	fd = openat(AT_FDCWD, "a.txt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 4;
	close(fd);
	if (rename("a.txt", "b.txt") != 0)
		return 5;
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	if (dir < 0 || renameat2(dir, "b.txt", AT_FDCWD, "c.txt", 0) != 0)
		return 6;
	if (unlinkat(dir, "c.txt", 0) != 0)
		return 7;
	printf("%d\n", getpid());
	return 0;
}
