package verify

// SetSpillEntries makes verify keep at most n entries in each of its maps
// in memory, writing the rest to its scratch store, until restore is called.
func SetSpillEntries(n int) (restore func()) {
	old := spillEntries
	spillEntries = n
	return func() { spillEntries = old }
}

// Replays is how many times Run has replayed the books of a damaged log.
func Replays() int64 { return replays.Load() }

// SetFoldParts makes verify fold in n parts (see part), until restore is
// called.
func SetFoldParts(n int) (restore func()) {
	old := foldParts
	foldParts = n
	return func() { foldParts = old }
}

// SetPasses makes verify read the log in n passes (see pass), until
// restore is called.
func SetPasses(n int) (restore func()) {
	old := forcePasses
	forcePasses = n
	return func() { forcePasses = old }
}

// SetReadBatch makes verify read the log n events at a time, until restore
// is called.
func SetReadBatch(n int) (restore func()) {
	old := readBatch
	readBatch = n
	return func() { readBatch = old }
}

// SetExportBatch makes verify-export parse n lines at a time, until
// restore is called.
func SetExportBatch(n int) (restore func()) {
	old := exportBatchLines
	exportBatchLines = n
	return func() { exportBatchLines = old }
}
