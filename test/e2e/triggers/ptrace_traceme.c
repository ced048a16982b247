/* TRC-102 trigger: asks to be traced by its parent, as anti-debugging code does. */
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(void) {
	long rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	printf("%d %ld\n", getpid(), rc);
	return rc == 0 ? 0 : 1;
}
