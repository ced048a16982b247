/* process_vm_writev into the caller's own memory. Prints "pid". */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
	char src[16] = "tracee-vm-write", dst[16] = "";
	struct iovec local = {src, sizeof src}, remote = {dst, sizeof dst};
	if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != sizeof src)
		return 2;
	printf("%d\n", getpid());
	return 0;
}
