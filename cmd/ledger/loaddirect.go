package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// directConfig is a direct load: commands appended through the command
// handler to a stopped ledger's store, without HTTP, to build large stores
// for benchmarks quickly.
type directConfig struct {
	Creditor   string
	Placements int
	Events     uint64
	Workers    int
	Seed       uint64
}

const (
	maxDirectPlacements = 10_000_000
	maxDirectEvents     = 100_000_000
)

// isDirect reports whether load's arguments ask for a direct load.
func isDirect(args []string) bool {
	for _, a := range args {
		if a == "-direct" || a == "--direct" || a == "-direct=true" || a == "--direct=true" {
			return true
		}
	}
	return false
}

// loadDirect places -placements claims for -creditor, then runs payments
// (80%), partial recalls (19.5%) and recalls (0.5%) on random ones until
// the store has grown by -events events. Every command goes through the
// same handler the HTTP API uses: validated, hash-chained and durable.
func loadDirect(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var c directConfig
	var direct bool
	store, _, code, ok := openForCLIWith("load -direct", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&direct, "direct", false, "append to a stopped ledger's store through the command handler, without HTTP")
		fs.StringVar(&c.Creditor, "creditor", "load", "the creditor whose placements these are")
		fs.IntVar(&c.Placements, "placements", 1000, "placements to create first")
		fs.Uint64Var(&c.Events, "events", 100_000, "stop once the store has grown by this many events (placing counts)")
		fs.IntVar(&c.Workers, "workers", 64, "commands in flight at once (their appends are committed together)")
		fs.Uint64Var(&c.Seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	}, 0)
	if !ok {
		return code
	}
	defer store.Close()
	if err := c.check(); err != nil {
		fmt.Fprintf(stderr, "ledger load -direct: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// As serve does: a new store is declared in this ledger's log format; an
	// older one must be migrated first.
	if err := journal.EnsureFormat(ctx, store); err != nil {
		fmt.Fprintln(stderr, "ledger load -direct:", err)
		return 1
	}
	startHead, err := store.Head(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "ledger load -direct:", err)
		return 1
	}
	// No command carries an idempotency key, so the index stays empty. The
	// tool keeps every placement it touches in memory (about 2 KB each):
	// without views to start from, a placement not cached is read from its
	// stream, which would make large loads slow.
	h := command.NewHandler(store, projections.NewIdempotencyIndex(), nil)
	h.MaxCached = c.Placements + 1
	l := &directLoad{c: c, h: h, runID: fmt.Sprintf("%x", c.Seed&0xffffffff), ids: make([]uuid.UUID, c.Placements),
		bar: progress(stderr, int64(c.Events), "appending")}
	start := time.Now()
	err = l.place(ctx)
	placed := time.Since(start)
	if err == nil {
		var refused int64
		refused, err = l.act(ctx)
		if refused > 0 {
			defer fmt.Fprintf(stdout, "%d commands were refused by the rules (closed or paid-off placements) and appended nothing\n", refused)
		}
	}
	if l.bar != nil {
		_ = l.bar.Finish()
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "ledger load -direct: interrupted after %d events; everything appended is in the store\n", l.appended.Load())
			return 130
		}
		fmt.Fprintln(stderr, "ledger load -direct:", err)
		return 1
	}
	head, err := store.Head(context.Background())
	if err != nil {
		fmt.Fprintln(stderr, "ledger load -direct:", err)
		return 1
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "appended %d placement events for %s (%d placements in %s) in %s: %.0f events/s; the log runs from %d to %d\n",
		l.appended.Load(), c.Creditor, c.Placements, placed.Round(time.Millisecond), took.Round(time.Millisecond),
		float64(l.appended.Load())/took.Seconds(), startHead, head)
	return 0
}

// check says which of a direct load's settings is out of range, if any.
func (c directConfig) check() error {
	switch {
	case c.Placements < 1 || c.Placements > maxDirectPlacements:
		return fmt.Errorf("-placements must be 1..%d", maxDirectPlacements)
	case c.Events < 1 || c.Events > maxDirectEvents:
		return fmt.Errorf("-events must be 1..%d", maxDirectEvents)
	case c.Workers < 1 || c.Workers > maxLoadConnections:
		return fmt.Errorf("-workers must be 1..%d", maxLoadConnections)
	case !domain.ValidCreditorID(c.Creditor):
		return fmt.Errorf("-creditor %q is not a creditor id (letters, digits, '.', '_', '-'; at most 64)", c.Creditor)
	}
	return nil
}

// directLoad is a direct load under way: the handler it appends through,
// the placements it has made and the events it has appended so far.
type directLoad struct {
	c     directConfig
	h     *command.Handler
	runID string // in every claim, payment and waiver number, so that runs do not collide
	// ids are the placements made, by number: each worker of place fills
	// its own entries, and act reads them after place has returned.
	ids      []uuid.UUID
	appended atomic.Uint64
	bar      *progressbar.ProgressBar // nil when stderr is not a terminal
}

// count adds the events res recorded to those appended and moves the
// progress bar.
func (l *directLoad) count(res command.Result) {
	n := l.appended.Add(uint64(res.Recorded))
	if l.bar != nil {
		_ = l.bar.Set64(int64(min(n, l.c.Events)))
	}
}

// place places c.Placements claims of two invoices each, on c.Workers
// goroutines, and keeps their ids.
func (l *directLoad) place(ctx context.Context) error {
	var next atomic.Int64
	return l.c.parallel(ctx, func(ctx context.Context, _ *rand.Rand) (bool, error) {
		i := int(next.Add(1) - 1)
		if i >= l.c.Placements {
			return false, nil
		}
		req := command.Request{Actor: l.c.Creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
		res, err := l.h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: l.c.Creditor,
			ClaimNumber: fmt.Sprintf("LOAD-%s-%08d", l.runID, i), CustomerNumber: fmt.Sprintf("K%08d", i), Currency: "EUR",
			FeeRate: decimal.RequireFromString("0.20"), Invoices: []domain.Invoice{
				{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.RequireFromString("100.00")), DueDate: "2024-05-01"},
				{InvoiceNumber: "I2", ContractNumber: "C1", Amount: domain.AmountOf(decimal.RequireFromString("300.00")), DueDate: "2024-06-01"}}})
		if err != nil {
			return false, fmt.Errorf("placing: %w", err)
		}
		l.ids[i] = res.Placement.ID
		l.count(res)
		return true, nil
	})
}

// act runs payments (80%), partial recalls (19.5%) and recalls (0.5%) on
// random placements, on c.Workers goroutines, until c.Events events have
// been appended in all. It returns how many commands the rules refused (on
// closed or paid-off placements; they append nothing and do not stop the
// load).
func (l *directLoad) act(ctx context.Context) (refused int64, err error) {
	var nRefused atomic.Int64
	var seq atomic.Int64
	one, half := decimal.RequireFromString("1.00"), decimal.RequireFromString("0.50")
	err = l.c.parallel(ctx, func(ctx context.Context, rng *rand.Rand) (bool, error) {
		if l.appended.Load() >= l.c.Events {
			return false, nil
		}
		n := seq.Add(1)
		id := l.ids[rng.IntN(len(l.ids))]
		roll := rng.IntN(1000)
		req := command.Request{Actor: l.c.Creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
		res, err := l.h.Execute(ctx, id, req, func(at time.Time) domain.Command {
			switch {
			case roll < 800:
				return domain.ReceivePayment{PaymentNumber: fmt.Sprintf("P-%s-%d", l.runID, n), Amount: one, At: at}
			case roll < 995:
				return domain.PartialRecall{At: at, Waivers: []domain.Waiver{{CreditWaiverNumber: fmt.Sprintf("W-%s-%d", l.runID, n),
					InvoiceNumber: "I2", ContractNumber: "C1", Date: "2024-08-07", Description: "load", Amount: half, Currency: "EUR"}}}
			default:
				return domain.Recall{At: at}
			}
		})
		if _, recorded := command.AsRefused(err); recorded {
			err = nil // refused, but what it recorded (RecallRejected) counts as appended
		}
		var refusal *domain.Error
		if errors.As(err, &refusal) {
			nRefused.Add(1) // a closed or paid-off placement: the command is refused, nothing appended
			return true, nil
		}
		if err != nil {
			return false, err
		}
		l.count(res)
		return true, nil
	})
	return nRefused.Load(), err
}

// parallel runs step on c.Workers goroutines until one returns false or an
// error, or ctx ends; it returns the first error.
func (c directConfig) parallel(ctx context.Context, step func(ctx context.Context, rng *rand.Rand) (bool, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for w := range c.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(c.Seed, uint64(w)))
			for ctx.Err() == nil {
				more, err := step(ctx, rng)
				if err != nil {
					first.CompareAndSwap(nil, &err)
					cancel()
					return
				}
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return ctx.Err()
}
