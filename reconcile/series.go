package reconcile

import (
	"time"
)

// Bucket is one period's figures in one currency.
type Bucket struct {
	Start, End time.Time
	// Label names the period: 2024-05-03 for a day, 2024-05 for a month.
	Label string
	Amounts
}

// Series splits a report's entries in one currency into consecutive days
// (or months) from its From up to its To, each entry in the period of its
// date on the report's basis: every period has a bucket, empty or not, and
// the buckets add up to the report's total for the currency.
func Series(r Report, currency string, byMonth bool) []Bucket {
	start, step, label := r.From.UTC().Truncate(24*time.Hour), func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }, time.DateOnly
	if byMonth {
		f := r.From.UTC()
		start, step, label = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC), func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }, "2006-01"
	}
	var out []Bucket
	for t := start; t.Before(r.To); t = step(t) {
		out = append(out, Bucket{Start: t, End: step(t), Label: t.Format(label), Amounts: zero()})
	}
	for _, e := range r.Entries {
		if e.Currency != currency {
			continue
		}
		at := e.Dated(r.Basis)
		// Buckets are in order and contiguous: find the one that holds at.
		lo, hi := 0, len(out)
		for lo < hi {
			mid := (lo + hi) / 2
			if out[mid].End.After(at) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if lo < len(out) && !at.Before(out[lo].Start) {
			out[lo].add(e.Figures())
		}
	}
	return out
}

// Periods says how many days (or months) Series would make of [from, to).
func Periods(from, to time.Time, byMonth bool) int {
	from, to = from.UTC(), to.UTC()
	if byMonth {
		return (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month()) + 1
	}
	return int(to.Sub(from.Truncate(24*time.Hour)).Hours()/24) + 1
}
