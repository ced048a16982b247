/* Prints "pid comm" of the running process: what an exec'd trigger reports back to the test. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
	char comm[32] = "";
	FILE *f = fopen("/proc/self/comm", "r");
	if (f && fgets(comm, sizeof comm, f))
		comm[strcspn(comm, "\n")] = 0;
	printf("%d %s\n", getpid(), comm);
	return 0;
}
