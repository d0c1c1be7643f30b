package projections

import "syscall"

// discardArena gives back the pages of b, part of an arena (allocArena):
// they read as zeros afterwards.
func discardArena(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }
