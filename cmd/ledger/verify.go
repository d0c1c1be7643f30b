package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
)

// progress returns a progress bar on w when w is a terminal, and nil (no
// output) otherwise.
func progress(w io.Writer, max int64, what string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
}

// cliCacheMiB is the embedded store's memory (block cache and memtables)
// for the command-line tools that read the log, unless
// LEDGER_STORE_CACHE_MB says otherwise: they read it from one end to the
// other once, so a block is not read again, and a larger cache cost a
// rebuild of 1.1M events 70 MB more resident for no less time
// (docs/PERFORMANCE.md). load -direct, which writes it, takes the server's.
const cliCacheMiB = 8

// openForCLI parses a command-line tool's flags (-LEDGER_STORE and those
// extra adds) and opens the store, with a message that says what to do when
// a running server holds it. When ok is false the tool exits with code: 0
// for -h, 2 for bad flags or a store that cannot be opened (the message is
// written already).
func openForCLI(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (store eventstore.Store, code int, ok bool) {
	store, _, code, ok = openForCLIAt(name, args, getenv, stderr, extra)
	return store, code, ok
}

// openForCLIAt is openForCLI that also returns where the store is.
func openForCLIAt(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (store eventstore.Store, where string, code int, ok bool) {
	return openForCLIWith(name, args, getenv, stderr, extra, cliCacheMiB)
}

// openForCLIWith is openForCLIAt with the store's memory in MiB when
// LEDGER_STORE_CACHE_MB does not say (0: the engine's default).
func openForCLIWith(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet), defaultCacheMiB int) (store eventstore.Store, where string, code int, ok bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	usageOf(fs, name)
	location := new(string)
	envString(fs, location, "LEDGER_STORE", getenv, "./data/ledger.db", "embedded store directory, a PostgreSQL URL (postgres://…) or a KurrentDB connection string")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, "", 0, false
		}
		fmt.Fprintf(stderr, "ledger %s: %v\n", name, err)
		return nil, "", 2, false
	}
	cacheMiB, err := parseCacheMiB(getenv("LEDGER_STORE_CACHE_MB"))
	if err != nil {
		fmt.Fprintf(stderr, "ledger %s: %v\n", name, err)
		return nil, "", 2, false
	}
	if cacheMiB == 0 {
		cacheMiB = defaultCacheMiB
	}
	s, _, err := openStore(*location, cacheMiB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			fmt.Fprintf(stderr, "ledger %s: %s is in use by a running ledger: stop it first, or ask the server (GET /v1/admin/verify): %v\n", name, redactStore(*location), err)
		} else {
			fmt.Fprintf(stderr, "ledger %s: open %s: %v\n", name, redactStore(*location), err)
		}
		return nil, "", 2, false
	}
	return s, *location, 0, true
}

// catchUpViews opens the read models of the store at location (dir, or the
// default beside it) and brings them up to date with the log, on a stopped
// ledger. bulk builds them from nothing into a directory that is thrown away
// unless the build completes (see projections.ViewsOptions.Bulk).
func catchUpViews(ctx context.Context, store eventstore.Store, location, dir string, bulk bool, stderr io.Writer) (*projections.Views, error) {
	views, err := projections.OpenViews(viewsDirFor(dir, location), projections.ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Bulk: bulk})
	if err != nil {
		return nil, err
	}
	runner := projections.NewRunner(store, views, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runner.Once = true
	if bulk {
		runner.MaxBatch = 20_000 // fewer commits, each state written once per batch
	}
	var bar *progressbar.ProgressBar
	runner.Progress = func(pos, head eventstore.Position) {
		if bar == nil {
			bar = progress(stderr, int64(head), "bringing the views up to date")
		}
		if bar != nil {
			_ = bar.Set64(int64(pos))
		}
	}
	if err := runner.Run(ctx); err != nil {
		_ = views.Discard()
		return nil, err
	}
	if err := views.SaveStates(); err != nil { // a bulk build's states, before anyone reads them
		_ = views.Discard()
		return nil, err
	}
	if bulk {
		if err := views.Compact(ctx); err != nil {
			_ = views.Discard()
			return nil, err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	return views, nil
}

func verifyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	asJSON, deep := false, false
	var keyFlags personalFlags
	store, location, code, ok := openForCLIAt("verify", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.BoolVar(&deep, "deep", false, "also rebuild the views from position 0 and re-read every placement through its own stream to compare (a point read per event, about five times the time)")
		keyFlags.register(fs, getenv)
	})
	if !ok {
		return code
	}
	defer store.Close()
	defer limitGoMemory(getenv, verifyGoMemory)()
	personal, err := keyFlags.open(location)
	if err != nil {
		fmt.Fprintln(stderr, "ledger verify:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var bar *progressbar.ProgressBar
	report, err := verify.Run(ctx, store, verify.Options{Deep: deep, Personal: personal, Progress: func(pos, head eventstore.Position) {
		if bar == nil {
			bar = progress(stderr, int64(head), "verifying")
		}
		if bar != nil {
			_ = bar.Set64(int64(pos))
		}
	}})
	if bar != nil {
		_ = bar.Finish()
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ledger verify: interrupted")
		return 130
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger verify:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
	} else {
		fmt.Fprintf(stdout, "verified %d events in %d streams (%d placements) up to position %d in %.2fs: ",
			report.Events, report.Streams, report.Placements, report.Head, report.Seconds)
		if report.OK() {
			fmt.Fprintln(stdout, "all hash chains, invariants and projections hold")
			switch {
			case report.PersonalUnchecked > 0:
				fmt.Fprintf(stdout, "the sealed personal data of %d placements was not opened: give the master key (LEDGER_MASTER_KEY) to check it\n", report.PersonalUnchecked)
			case report.PersonalChecked+report.PersonalErased > 0:
				fmt.Fprintf(stdout, "sealed personal data: %d authentic, %d erased\n", report.PersonalChecked, report.PersonalErased)
			}
		} else {
			fmt.Fprintf(stdout, "%d problems\n", len(report.Findings))
			for i, f := range report.Findings {
				if i == 50 {
					fmt.Fprintf(stdout, "  … and %d more (-json lists them all)\n", len(report.Findings)-50)
					break
				}
				fmt.Fprintln(stdout, "  "+f.String())
			}
		}
	}
	if !report.OK() {
		return 1
	}
	return 0
}

// verifyGoMemory is the soft limit on Go's memory that ledger verify (and
// verify-export: 184 MB resident over the 1.1M events' export with it, up
// to 217 MB without) keeps unless GOMEMLIMIT sets one. Everything verify holds is bounded (its maps
// spill, its caches have budgets), but with Go's default the collector let
// the heap grow to twice what was live: over 1.1M events, 316–325 MB
// resident without a limit and 281 MB with this one, in 1.1x the time
// (docs/PERFORMANCE.md). Should a ledger need more, the collector works
// harder (Go caps it at half the CPU), and verify takes longer; it does not
// fail.
const verifyGoMemory = 150 << 20

// limitGoMemory sets Go's soft memory limit to limit unless the GOMEMLIMIT
// environment variable set one, and returns what restores it.
func limitGoMemory(getenv func(string) string, limit int64) (restore func()) {
	if getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(before) }
}
