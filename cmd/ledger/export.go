package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/export"
	"github.com/collections-ledger/ledger/verify"
)

func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var creditor, placement, from, to, format, out string
	store, code, ok := openForCLI("export", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&creditor, "creditor", "", "only this creditor's streams")
		fs.StringVar(&placement, "placement", "", "only this placement's stream")
		fs.StringVar(&from, "from", "", "only events recorded at or after this RFC 3339 time")
		fs.StringVar(&to, "to", "", "only events recorded before this RFC 3339 time")
		fs.StringVar(&format, "format", "jsonl", "jsonl or csv")
		fs.StringVar(&out, "o", "-", "output file (- for standard output)")
	})
	if !ok {
		return code
	}
	defer store.Close()
	var err error
	f := export.Filter{Creditor: creditor}
	if placement != "" {
		if f.Placement, err = uuid.Parse(placement); err != nil {
			fmt.Fprintln(stderr, "ledger export: -placement must be a placement id (a UUID)")
			return 2
		}
	}
	for _, t := range []struct {
		raw  string
		dst  *time.Time
		name string
	}{{from, &f.From, "-from"}, {to, &f.To, "-to"}} {
		if t.raw == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.raw); err != nil {
			fmt.Fprintf(stderr, "ledger export: %s must be an RFC 3339 time\n", t.name)
			return 2
		}
	}
	w := stdout
	if out != "-" {
		file, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(stderr, "ledger export:", err)
			return 1
		}
		defer file.Close()
		w = file
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var bar *progressbar.ProgressBar
	start := time.Now()
	st, err := export.Write(ctx, store, w, export.Format(format), f, func(pos, head eventstore.Position) {
		if bar == nil {
			bar = progress(stderr, int64(head), "exporting")
		}
		if bar != nil {
			_ = bar.Set64(int64(pos))
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ledger export: interrupted; the output is incomplete")
		return 130
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger export:", err)
		return 1
	}
	fmt.Fprintf(stderr, "exported %d of %d events in %.2fs\n", st.Written, st.Read, time.Since(start).Seconds())
	return 0
}

func verifyExportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(stderr, "usage: ledger verify-export FILE.jsonl\n\nre-check the hash chains of a JSON Lines export (ledger export -format jsonl), without the store\n\n%s\n", exitCodes)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: ledger verify-export FILE.jsonl")
		return 2
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "ledger verify-export:", err)
		return 2
	}
	defer f.Close()
	defer limitGoMemory(getenv, verifyGoMemory)()
	r, err := verify.Export(ctx, f)
	if err != nil {
		fmt.Fprintln(stderr, "ledger verify-export:", err)
		return 1
	}
	fmt.Fprintf(stdout, "checked %d exported events in %d streams: ", r.Events, r.Streams)
	if r.OK() {
		fmt.Fprintln(stdout, "every hash chain holds")
		return 0
	}
	fmt.Fprintf(stdout, "%d problems\n", len(r.Findings))
	for _, fd := range r.Findings {
		fmt.Fprintln(stdout, "  "+fd.String())
	}
	return 1
}
