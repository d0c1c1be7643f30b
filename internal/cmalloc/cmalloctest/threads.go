//go:build linux && cgo

// Package cmalloctest allocates with C's malloc from several threads at
// once, for cmalloc's tests: each new thread that calls malloc is given an
// arena of its own unless the number of arenas is limited.
package cmalloctest

/*
#include <pthread.h>
#include <stdlib.h>

static pthread_barrier_t ledger_barrier;

static void *ledger_allocate(void *arg) {
	(void)arg;
	pthread_barrier_wait(&ledger_barrier); // all threads alive at once
	void *p = malloc(4096);
	pthread_barrier_wait(&ledger_barrier); // all allocated before any frees
	free(p);
	return NULL;
}

static int ledger_malloc_from_threads(int n) {
	pthread_t t[64];
	if (n > 64) n = 64;
	if (pthread_barrier_init(&ledger_barrier, NULL, n) != 0) return -1;
	int started = 0;
	for (; started < n; started++) {
		if (pthread_create(&t[started], NULL, ledger_allocate, NULL) != 0) break;
	}
	for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
	pthread_barrier_destroy(&ledger_barrier);
	return started == n ? 0 : -1;
}
*/
import "C"

import "errors"

// MallocFromThreads starts n threads (at most 64) that each allocate with
// malloc while all of them are alive, then free, and waits for them.
func MallocFromThreads(n int) error {
	if C.ledger_malloc_from_threads(C.int(n)) != 0 {
		return errors.New("cmalloctest: could not start the threads")
	}
	return nil
}
