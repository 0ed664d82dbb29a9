/* warren.c -- the command-line client (a fuller one comes with warren(1)). */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "warren: not yet\n");
	return (1);
}
