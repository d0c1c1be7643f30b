//go:build !(linux && cgo)

package cmalloc

// Limited reports whether the package set the limit of one arena: never
// without cgo on Linux.
func Limited() bool { return false }

// Arenas is the number of arenas the C allocator has made so far: -1, it
// cannot tell without cgo on Linux.
func Arenas() int { return -1 }
