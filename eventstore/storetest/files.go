package storetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// CopyStoreFiles copies a store directory's files, as they are on disk, into
// a fresh temporary directory, leaving out Pebble's LOCK file. A test whose
// engine stopped after a fault (and so still holds the directory's lock in
// this process) recovers from the copy, which is what a restarted process
// would find.
func CopyStoreFiles(tb testing.TB, dir string) string {
	tb.Helper()
	dst := tb.TempDir()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	for _, e := range entries {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}
