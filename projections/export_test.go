package projections

import (
	"time"

	"github.com/collections-ledger/ledger/domain"
)

// MutateEntryPostings replaces the postings rule reconciliation entries
// read (not the one the trial balance reads) with mutate applied to what
// domain.Postings gives, for a test, and returns a function that restores
// it.
func MutateEntryPostings(mutate func(e domain.Event, ps []domain.Posting) []domain.Posting) func() {
	old := entryPostings
	entryPostings = func(before domain.Placement, e domain.Event, bookedAt time.Time) []domain.Posting {
		return mutate(e, domain.Postings(before, e, bookedAt))
	}
	return func() { entryPostings = old }
}

// SetVersionForTest marks the views in dir as built by another version of
// the code, as a store left by an older ledger would be.
func SetVersionForTest(dir string, version uint64) error {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return err
	}
	defer v.Close()
	return v.db.Set(versionKey(v.generation()), u64bytes(version), v.syncOpts())
}

// SetSaveBatchBytes sets the size at which SaveStates commits a batch, for a
// test, and returns a function that restores it.
func SetSaveBatchBytes(n int) func() {
	old := saveBatchBytes
	saveBatchBytes = n
	return func() { saveBatchBytes = old }
}
