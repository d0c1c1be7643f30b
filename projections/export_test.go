package projections

import (
	"time"

	"github.com/cockroachdb/pebble/v2"

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
	return v.db.Set(versionKey(v.generation()), u64bytes(version), nil)
}

// SetSaveBatchBytes sets the size at which SaveStates commits a batch, for a
// test, and returns a function that restores it.
func SetSaveBatchBytes(n int) func() {
	old := saveBatchBytes
	saveBatchBytes = n
	return func() { saveBatchBytes = old }
}

// PlanBreakKeysVisited reads the plan-breaking index as PlansDue does at
// now and returns the keys the store's iterator yielded and the internal
// keys (deleted ones too) it stepped over to find them, for a test of what
// a run costs.
func PlanBreakKeysVisited(v *Views, now time.Time) (yielded int, internal uint64, err error) {
	lower, upper := plansDueBounds(v.generation(), now)
	it, err := v.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, 0, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		yielded++
	}
	st := it.Stats()
	return yielded, st.InternalStats.PointCount, it.Close()
}
