package domain

import "time"

// MutatePostingRule replaces the posting rule for the test's duration (a
// mutation test of the invariants Decide checks).
func MutatePostingRule(tb interface{ Cleanup(func()) }, rule func(claim string, e Event, bookedAt time.Time, original func(string, Event, time.Time) []Posting) []Posting) {
	prev := postingRule
	postingRule = func(claim string, e Event, bookedAt time.Time) []Posting { return rule(claim, e, bookedAt, postingsOf) }
	tb.Cleanup(func() { postingRule = prev })
}

// MutateFeeRule replaces the fee postings' rule for the test's duration.
func MutateFeeRule(tb interface{ Cleanup(func()) }, rule func(before Placement, e Event, bookedAt time.Time, original func(Placement, Event, time.Time) []Posting) []Posting) {
	prev := feeRule
	feeRule = func(before Placement, e Event, bookedAt time.Time) []Posting {
		return rule(before, e, bookedAt, feePostings)
	}
	tb.Cleanup(func() { feeRule = prev })
}

// CrossCheckConservation has CheckPostings judge every check both ways
// (conservedMinor, then conserved) for the test's duration and tell check
// what each said.
func CrossCheckConservation(tb interface{ Cleanup(func()) }, check func(fast bool, err error)) {
	prev := crossCheck
	crossCheck = check
	tb.Cleanup(func() { crossCheck = prev })
}

// PlainAmount and ParseAmountSlow are ParseAmount's two paths.
var (
	PlainAmount     = plainAmount
	ParseAmountSlow = parseAmount
)
