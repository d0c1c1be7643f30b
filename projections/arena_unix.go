//go:build unix

package projections

import "syscall"

// allocArena maps n bytes of memory outside Go's heap: a buffer held for
// a whole build, as large as the sink's, would otherwise raise the heap
// size at which the collector runs by as much again (GOGC).
func allocArena(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func freeArena(b []byte) error { return syscall.Munmap(b) }
