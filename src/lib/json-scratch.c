/* json-scratch.c -- the nodes of a tree parsed only to be checked come
 * from one buffer reused for every such tree, instead of malloc.
 *
 * cJSON makes about three allocations per member (the node, its key, its
 * string value); on a 200-field event malloc and free took a third of the
 * loop thread. A scratch tree lives for one request: its nodes are carved
 * from the buffer in turn and, once every one of them is freed again, the
 * buffer starts over. What does not fit, and everything cJSON allocates
 * outside json_parse_scratch (printing, building replies, config trees),
 * comes from malloc as before: the hooks tell the two apart by address.
 * Only the thread that called json_scratch_init parses into the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

/* Under AddressSanitizer the buffer is poisoned while nothing lives in it
 * and each piece unpoisoned when carved, so a tree used after it was
 * freed is reported as it would be from malloc. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SCRATCH_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SCRATCH_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SCRATCH_POISON(p, n) ((void)(p), (void)(n))
#define SCRATCH_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SCRATCH_SIZE (256 * 1024)
#define SCRATCH_ALIGN 16

static _Alignas(SCRATCH_ALIGN) unsigned char scratch[SCRATCH_SIZE];
static size_t	    scratch_used;  /* bytes carved since the last start-over */
static size_t	    scratch_live;  /* pieces carved and not yet freed */
static __thread int scratch_owner; /* this thread called json_scratch_init */
static __thread int scratch_on;	   /* inside json_parse_scratch */

/* Is p a piece of the scratch buffer? */
static int
scratch_has(const void *p)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)scratch;

	return (a >= base && a < base + SCRATCH_SIZE);
}

static void *
scratch_alloc(size_t n)
{
	size_t need = (n + SCRATCH_ALIGN - 1) & ~(size_t)(SCRATCH_ALIGN - 1);
	void  *p;

	if (!scratch_on || need < n || need > SCRATCH_SIZE - scratch_used)
		return (malloc(n));
	p = scratch + scratch_used;
	SCRATCH_UNPOISON(p, n);
	scratch_used += need;
	scratch_live++;
	return (p);
}

static void
scratch_free(void *p)
{
	if (!scratch_has(p)) {
		free(p);
		return;
	}
	if (!scratch_owner)
		fatalx("json scratch: a tree freed off its thread");
	if (--scratch_live == 0) {
		SCRATCH_POISON(scratch, scratch_used);
		scratch_used = 0;
	}
}

/* Let the calling thread parse into the scratch buffer; call once, before
 * any other thread uses cJSON. */
void
json_scratch_init(void)
{
	cJSON_Hooks h = { scratch_alloc, scratch_free };

	cJSON_InitHooks(&h);
	SCRATCH_POISON(scratch, SCRATCH_SIZE);
	scratch_owner = 1;
}

/* cJSON_ParseWithLength, the nodes in the scratch buffer when this is its
 * thread; free the tree with cJSON_Delete as any other, before it is
 * needed for long (a tree kept keeps the buffer from starting over). */
cJSON *
json_parse_scratch(const char *buf, size_t len)
{
	cJSON *tree;

	if (!scratch_owner)
		return (cJSON_ParseWithLength(buf, len));
	scratch_on = 1;
	tree = cJSON_ParseWithLength(buf, len);
	scratch_on = 0;
	return (tree);
}

/* Pieces of the buffer not yet freed (for tests). */
size_t
json_scratch_live(void)
{
	return (scratch_live);
}
