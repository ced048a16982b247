/* Socket events: connects to a loopback TCP listener and to a unix socket
 * at argv[1] (security_socket_connect), then dup2s the TCP socket onto fd 1
 * and dups the unix one (socket_dup). Prints "pid port" on stderr (stdout
 * has become the socket). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4) || getsockname(l, (struct sockaddr *)&a, &alen))
		return 3;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a))
		return 4;
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	strncpy(un.sun_path, argv[1], sizeof un.sun_path - 1);
	unlink(argv[1]);
	if (u < 0 || bind(u, (struct sockaddr *)&un, sizeof un) || listen(u, 4))
		return 5;
	int uc = socket(AF_UNIX, SOCK_STREAM, 0);
	if (uc < 0 || connect(uc, (struct sockaddr *)&un, sizeof un))
		return 6;
	int port = ntohs(a.sin_port);
	if (dup2(c, 1) != 1)
		return 7;
	if (dup(uc) < 0)
		return 8;
	fprintf(stderr, "%d %d\n", getpid(), port);
	unlink(argv[1]);
	return 0;
}
