/* mem_prot_alert: an anonymous W+X mapping (MmapWX), W+X -> X (MprotectWXToX),
 * RW -> RX (MprotectToX), and a private file mapping R+X -> R+W+X
 * (MprotectXToWX) of argv[1]. Prints "pid wx rw file". */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	size_t len = 4096;
	void *wx = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (wx == MAP_FAILED || mprotect(wx, len, PROT_READ | PROT_EXEC) != 0)
		return 3;
	void *rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rw == MAP_FAILED || mprotect(rw, len, PROT_READ | PROT_EXEC) != 0)
		return 4;
	int fd = open(argv[1], O_RDONLY);
	void *file = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED || mprotect(file, len, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
		return 5;
	printf("%d %lu %lu %lu\n", getpid(), (unsigned long)wx, (unsigned long)rw, (unsigned long)file);
	return 0;
}
