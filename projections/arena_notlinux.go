//go:build !linux

package projections

import "errors"

// discardArena gives nothing back where madvise(MADV_DONTNEED) is not
// known to zero the pages: the arena is freed whole (freeArena).
func discardArena([]byte) error { return errDiscard }

var errDiscard = errors.New("projections: pages are not given back on this system")
