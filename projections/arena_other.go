//go:build !unix

package projections

func allocArena(n int) ([]byte, error) { return make([]byte, n), nil }

func freeArena([]byte) error { return nil }
