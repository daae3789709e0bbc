/* Built by TestResolveInlinedC with gcc -O2 -g -fno-omit-frame-pointer:
 * deliver() is static and called once, so the compiler inlines it into
 * main; probe() prints the return address of its call, an address inside
 * deliver's inlined code. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void probe(int n)
{
	printf("%lx\n", (unsigned long)__builtin_return_address(0));
	fflush(stdout);
	getchar(); /* held until the test has read our maps */
	exit(n);
}

static void deliver(int n)
{
	if (n > 1)
		probe(n); /* LINE:probe */
	puts("unreached");
}

int main(int argc, char **argv)
{
	(void)argv;
	deliver(argc + 1); /* LINE:deliver */
	return 0;
}
