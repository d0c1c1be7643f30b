package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/lease"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/retention"
	"github.com/collections-ledger/ledger/verify"
	"github.com/collections-ledger/ledger/webhook"
)

// instance is one ledger process's pieces over a store: its own views and
// the runner that keeps them, the command handler, and the reactors that
// act once for all instances (webhook deliveries, automatic resumes).
type instance struct {
	store    eventstore.Store
	views    *projections.Views
	runner   *projections.Runner
	commands *command.Handler
	hooks    *webhook.Reactor
	opts     instanceOptions
	// runnerStopped is closed when the runner that start started has
	// returned: the views are not to be closed before (shutDown).
	runnerStopped chan struct{}
}

type instanceOptions struct {
	Logger *slog.Logger
	Policy webhook.Policy
	// Lease makes the reactors run only while this instance holds the lease
	// "reactors" in the store: with PostgreSQL or KurrentDB, several
	// instances share a store; the embedded store is locked to one process and needs none.
	Lease    bool
	LeaseTTL time.Duration
	// Holder names this instance in the lease; empty: host and a random part.
	Holder string
	// VerifyDir is where admin verify rebuilds views; empty: the system's.
	VerifyDir string
	// Webhook tunes the reactor (tests make it quick).
	Webhook webhook.Options
	// ResumeEvery is how often holds that are due are resumed; 0: a second.
	ResumeEvery time.Duration
	// Personal is the key store of debtors' personal data; with a Retention
	// the reactors erase personal data whose retention after its debtor's
	// last claim closed has passed, every RetentionEvery (0: an hour).
	Personal       pii.Keys
	Retention      time.Duration
	RetentionEvery time.Duration
}

func newInstance(store eventstore.Store, views *projections.Views, opts instanceOptions) *instance {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.Holder = host + "/" + hex.EncodeToString(b)
	}
	if opts.ResumeEvery == 0 {
		opts.ResumeEvery = time.Second
	}
	if opts.RetentionEvery == 0 {
		opts.RetentionEvery = time.Hour
	}
	runner := projections.NewRunner(store, views, opts.Logger)
	wopts := opts.Webhook
	wopts.Logger, wopts.Policy = opts.Logger, opts.Policy
	commands := command.NewHandler(store, projections.NewWriteIndex(views), nil)
	commands.Personal = opts.Personal
	return &instance{store: store, views: views, runner: runner, commands: commands,
		hooks: webhook.New(store, views, runner, wopts), opts: opts}
}

// start runs the runner and, once the views have caught up with the log,
// the reactors (under the lease when there is one). The channels report
// when each has stopped.
func (in *instance) start(ctx context.Context) (runnerDone, reactorsDone chan error) {
	runnerDone, reactorsDone = make(chan error, 1), make(chan error, 1)
	in.runnerStopped = make(chan struct{})
	go func() {
		err := in.runner.Run(ctx)
		close(in.runnerStopped)
		runnerDone <- err
	}()
	go func() {
		head, err := in.store.Head(ctx)
		if err == nil {
			err = in.runner.WaitFor(ctx, head)
		}
		if err != nil {
			reactorsDone <- nil // stopped (or failed) before catching up: the runner says why
			return
		}
		if !in.opts.Lease {
			reactorsDone <- in.reactors(ctx)
			return
		}
		var reactorErr error
		lease.New(in.store, "reactors", in.opts.Holder, lease.Options{TTL: in.opts.LeaseTTL, Logger: in.opts.Logger}).Run(ctx, func(ctx context.Context) {
			if err := in.reactors(ctx); err != nil {
				in.opts.Logger.Error("reactors stopped", "err", err)
				reactorErr = err
			}
		})
		reactorsDone <- reactorErr
	}()
	return runnerDone, reactorsDone
}

// reactors runs what must happen once for all instances until ctx ends:
// the automatic resumer, from the holds that are due (starting with those
// that fell due while the ledger was down), the breaking of payment plans
// whose grace has passed (the same way), the webhook deliveries, and the
// erasure of personal data whose retention has passed.
func (in *instance) reactors(ctx context.Context) error {
	resumer := command.NewResumer(in.commands, func(now time.Time) []command.Due {
		due, err := in.views.Due(now)
		if err != nil {
			in.opts.Logger.Error("read the holds that are due", "err", err)
		}
		var out []command.Due
		for _, d := range due {
			out = append(out, command.Due{ID: d.ID, ResumeAt: d.ResumeAt})
		}
		return out
	}, in.opts.Logger)
	done := make(chan struct{})
	go func() { defer close(done); resumer.Run(ctx, in.opts.ResumeEvery) }()
	breaking := make(chan struct{})
	go func() { defer close(breaking); in.planBreaker().Run(ctx, in.opts.ResumeEvery) }()
	erasing := make(chan struct{})
	go func() {
		defer close(erasing)
		if in.opts.Personal != nil && in.opts.Retention > 0 {
			retention.Run(ctx, in.commands.Erase, in.views, in.opts.Personal, in.opts.Retention, in.opts.RetentionEvery, in.opts.Logger)
		}
	}()
	err := in.hooks.Run(ctx)
	<-done
	<-breaking
	<-erasing
	return err
}

// planBreaker breaks the payment plans the views' index says are due, a
// bounded number a run (the rest in the next).
func (in *instance) planBreaker() *command.PlanBreaker {
	return command.NewPlanBreaker(in.commands, func(now time.Time) []command.DuePlan {
		due, err := in.views.PlansDue(now, 1000)
		if err != nil {
			in.opts.Logger.Error("read the payment plans that are due", "err", err)
		}
		out := make([]command.DuePlan, 0, len(due))
		for _, d := range due {
			out = append(out, command.DuePlan{ID: d.ID, PlanNumber: d.PlanNumber})
		}
		return out
	}, in.opts.Logger)
}

// verify checks the log and compares live views with a rebuild (admin).
func (in *instance) verify(ctx context.Context, live *projections.Views) (verify.Report, error) {
	return verify.Run(ctx, in.store, verify.Options{Live: live, Deep: true, Dir: in.opts.VerifyDir})
}
