/* Built by TestTraceC with gcc -O2 -g -fno-omit-frame-pointer. open_conn
 * is static and called from one place, so the compiler inlines it into
 * main: it has no symbol, yet the trace must name it as the function that
 * called socket(), which libc's frameless wrapper would otherwise hide.
 * Usage: opener IP PORT N. Leaks N connections (never closes them), says
 * "ready" and holds them until stdin closes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_conn(const struct sockaddr_in *peer)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* LINE:socket */
	if (fd < 0 || connect(fd, (const struct sockaddr *)peer, sizeof *peer) < 0) {
		perror("connect");
		exit(1);
	}
	return fd; /* THE BUG: nobody closes it */
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &peer.sin_addr);
	for (int i = atoi(argv[3]); i > 0; i--)
		open_conn(&peer); /* LINE:call */
	puts("ready");
	fflush(stdout);
	while (getchar() != EOF)
		;
	return 0;
}
