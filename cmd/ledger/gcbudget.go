package main

import "github.com/collections-ledger/ledger/internal/gcbudget"

// heapBudget is the Go heap that serve and rebuild let grow before the
// collector runs, while less than half of it is live (package gcbudget).
// Their live heaps are small (30 MB serving payments on 5,000 placements,
// 15-21 MB rebuilding 1.1M events), and Go's default collected at twice that:
// eleven times a second under payments, 8% of the server's CPU. With this
// budget a payment costs about 0.9 of the CPU and a rebuild 0.9 of the time.
// Where half of it or more is live (45 MB serving 100,000 placements, 60-70
// MB rebuilding 11M events) nothing changes: the server's peak there stayed
// where it was, and the rebuild's over 11M events within 8 MB of it. A server
// on 5,000 placements peaks about 22 MiB higher, and rebuilds of 1.1M and
// 3.3M events up to about the 11M-event one's peak (docs/PERFORMANCE.md,
// thirtieth round).
const heapBudget = 80 << 20

// budgetHeap starts the heap budget unless GOGC is set, which then rules as
// Go has it; it returns what stops it.
func budgetHeap(getenv func(string) string) (stop func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	return gcbudget.Start(heapBudget)
}
