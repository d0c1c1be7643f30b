//go:build linux && cgo

package cmalloc

/*
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ledger_arenas_limited;

// Runs when the binary is loaded, before the Go runtime starts a thread.
__attribute__((constructor)) static void ledger_limit_arenas(void) {
#ifdef __GLIBC__
	if (getenv("MALLOC_ARENA_MAX") != NULL) return;
	const char *t = getenv("GLIBC_TUNABLES");
	if (t != NULL && strstr(t, "arena_max") != NULL) return;
	ledger_arenas_limited = mallopt(M_ARENA_MAX, 1);
#endif
}

static int ledger_limited(void) { return ledger_arenas_limited; }

// The number of arenas malloc_info reports (one <heap> element each), or
// -1 when it cannot tell.
static int ledger_arenas(void) {
#ifdef __GLIBC__
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) return -1;
	int rc = malloc_info(0, f);
	fclose(f);
	if (rc != 0) { free(buf); return -1; }
	int n = 0;
	for (char *p = buf; (p = strstr(p, "<heap nr=")) != NULL; p++) n++;
	free(buf);
	return n;
#else
	return -1;
#endif
}
*/
import "C"

// Limited reports whether the package set the limit of one arena (false when
// the environment chose one, or the C library is not glibc).
func Limited() bool { return C.ledger_limited() != 0 }

// Arenas is the number of arenas the C allocator has made so far, or -1 when
// it cannot tell.
func Arenas() int { return int(C.ledger_arenas()) }
