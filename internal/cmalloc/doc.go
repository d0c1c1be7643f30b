// Package cmalloc limits the C allocator to one arena, for the memory that
// Pebble manages by hand: its block caches' blocks, its memtables and its
// compactions' buffers are allocated with C's malloc when the binary is
// built with cgo, the default (`make build`, `go build`). Importing the
// package is enough; the ledger's command imports it.
//
// glibc's malloc gives the threads that call it up to eight arenas a core,
// each keeping the memory freed into it for its own later allocations. Go
// runs cgo calls on whichever of its threads is free, so Pebble's blocks
// were allocated in one arena and freed into another, and every arena grew
// to its own peak: serving payments on 100,000 placements, five arenas held
// 179 MB of which 65 MB were in use, and the server peaked at 418–448 MiB
// resident. With one arena it held 78 MB (12 MB free) and peaked at
// 336–344 MiB, for the same CPU per payment (docs/PERFORMANCE.md, "Memory
// under load: one C malloc arena, and 2,000 decoded states in the live
// views").
//
// The limit is set by a C constructor, before the Go runtime starts its
// threads, so no thread has an arena of its own yet. An operator who sets
// MALLOC_ARENA_MAX, or arena_max in GLIBC_TUNABLES, keeps that setting. The
// package does nothing without cgo (Pebble then allocates from the Go heap)
// or on a C library other than glibc.
package cmalloc
