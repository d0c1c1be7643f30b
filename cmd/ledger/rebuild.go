package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// rebuildCmd rebuilds a stopped instance's views. By default it rebuilds,
// in place, the units (read models) another version of the ledger built,
// and those -units names: each into a new generation, swapped in at once
// when complete (see projections.Runner), so an interrupted rebuild leaves
// the views as they were. With -all, or where there are no views yet, it
// builds every unit anew from the whole log beside the old views, which
// stay untouched until the new are complete, and puts them in their
// place. The old views are held open (and so locked) meanwhile, so no
// instance can be serving from them.
func rebuildCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	viewsFlag, all, unitsFlag := "", false, ""
	var unitNames []string
	for _, u := range projections.Units() {
		unitNames = append(unitNames, u.Name)
	}
	store, location, code, ok := openForCLIAt("rebuild", args, getenv, stderr, func(fs *flag.FlagSet) {
		envString(fs, &viewsFlag, "LEDGER_VIEWS", getenv, "", "the view store to rebuild (default: the store's, as serve uses)")
		fs.BoolVar(&all, "all", false, "rebuild every unit, in a new directory put in place of the old views when complete")
		fs.StringVar(&unitsFlag, "units", "", "rebuild these units too, comma-separated ("+strings.Join(unitNames, ", ")+")")
	})
	if !ok {
		return code
	}
	defer store.Close()
	defer budgetHeap(getenv)()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	target := viewsDirFor(viewsFlag, location)
	var old *projections.Views
	if _, err := os.Stat(target); err == nil {
		// Holding the old views locks them: a running instance on them is refused.
		if old, err = projections.OpenViews(target, projections.ViewsOptions{Logger: quiet}); err != nil {
			fmt.Fprintf(stderr, "ledger rebuild: %s is in use (stop the ledger that serves from it first): %v\n", target, err)
			return 2
		}
		defer old.Close()
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 2
	}
	if old != nil && !all {
		return rebuildUnits(ctx, store, old, target, unitsFlag, stdout, stderr)
	}
	fresh := target + ".rebuild"
	if err := os.RemoveAll(fresh); err != nil { // an interrupted rebuild's leftovers
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 1
	}
	start := time.Now()
	views, err := catchUpViews(ctx, store, location, fresh, true, stderr)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if views != nil {
			_ = views.Discard()
		}
		_ = os.RemoveAll(fresh)
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "ledger rebuild: interrupted; the views are as they were")
			return 130
		}
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 1
	}
	pos := views.Checkpoint()
	err = views.Close()
	if old != nil && err == nil {
		err = old.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 1
	}
	took := time.Since(start)
	if err := swapDirs(target, fresh); err != nil {
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 1
	}
	fmt.Fprintf(stdout, "rebuilt %s up to position %d in %.2fs\n", target, pos, took.Seconds())
	return 0
}

// rebuildUnits rebuilds in place the units of views another version built,
// and those named in extra (comma-separated).
func rebuildUnits(ctx context.Context, store eventstore.Store, views *projections.Views, target, extra string, stdout, stderr io.Writer) int {
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ledger rebuild: interrupted; the views are as they were")
		return 130
	}
	if extra != "" {
		if err := views.Invalidate(strings.Split(extra, ",")...); err != nil {
			fmt.Fprintln(stderr, "ledger rebuild:", err)
			return 2
		}
	}
	changed := views.ChangedUnits()
	if len(changed) == 0 {
		fmt.Fprintf(stdout, "the views of %s are current: nothing to rebuild (-all rebuilds every unit)\n", target)
		return 0
	}
	start := time.Now()
	r := projections.NewRunner(store, views, slog.New(slog.NewTextHandler(stderr, nil)))
	r.Once = true
	if err := r.Run(ctx); err != nil || ctx.Err() != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "ledger rebuild: interrupted; the views are as they were")
			return 130
		}
		fmt.Fprintln(stderr, "ledger rebuild:", err)
		return 1
	}
	fmt.Fprintf(stdout, "rebuilt %s of %s up to position %d in %.2fs\n", strings.Join(changed, ", "), target, views.Checkpoint(), time.Since(start).Seconds())
	return 0
}

// swapDirs puts the directory fresh in place of target: target moves aside,
// fresh takes its name, then the old copy is removed. Were the process to
// stop between the renames, target would be missing, and the next start
// would rebuild the views from the log: nothing is lost either way.
func swapDirs(target, fresh string) error {
	old := target + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(target, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(fresh, target); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		_ = d.Sync() // the renames survive a power cut
		_ = d.Close()
	}
	return os.RemoveAll(old)
}
