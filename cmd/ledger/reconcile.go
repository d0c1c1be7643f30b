package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/reconcile"
)

func reconcileCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var creditor, from, to, statement, claims, viewsDir string
	var asJSON bool
	store, location, code, ok := openForCLIAt("reconcile", args, getenv, stderr, func(fs *flag.FlagSet) {
		envString(fs, &viewsDir, "LEDGER_VIEWS", getenv, "", "the read models' directory (default: beside the embedded store)")
		fs.StringVar(&creditor, "creditor", "", "the creditor (required)")
		fs.StringVar(&from, "from", "", "start, inclusive (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&to, "to", "", "end, exclusive (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&statement, "statement", "", "the creditor's statement of direct payments (CSV: date,claimNumber,paymentNumber,amount,currency)")
		fs.StringVar(&claims, "claims", "", "with -statement: match it against these claims' payments only (claim numbers, comma-separated), not every payment of the creditor in the window")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if !ok {
		return code
	}
	defer store.Close()
	var err error
	if !domain.ValidCreditorID(creditor) {
		fmt.Fprintln(stderr, "ledger reconcile: -creditor is required")
		return 2
	}
	window := [2]time.Time{{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i, raw := range []string{from, to} {
		if raw == "" {
			continue
		}
		if t, ok := domain.ParseDate(raw); ok {
			window[i] = t
		} else if window[i], err = time.Parse(time.RFC3339Nano, raw); err != nil {
			fmt.Fprintf(stderr, "ledger reconcile: %q is not an RFC 3339 time or a YYYY-MM-DD date\n", raw)
			return 2
		}
	}
	var lines []reconcile.StatementLine
	if statement != "" {
		f, err := os.Open(statement)
		if err != nil {
			fmt.Fprintln(stderr, "ledger reconcile:", err)
			return 2
		}
		lines, err = reconcile.ParseStatement(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "ledger reconcile:", err)
			return 2
		}
	}
	views, err := catchUpViews(ctx, store, location, viewsDir, false, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ledger reconcile:", err)
		return 1
	}
	defer views.Close()
	r, err := views.Reconciliation(creditor, window[0], window[1])
	if err != nil {
		fmt.Fprintln(stderr, "ledger reconcile:", err)
		return 1
	}
	var m *reconcile.Matching
	if statement != "" {
		mm := reconcile.Match(paymentsOf(r.Payments, claims), lines)
		m = &mm
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"report": r.View(), "statement": m})
	} else {
		v := r.View()
		currencies := make([]string, 0, len(v.Totals))
		for cur := range v.Totals {
			currencies = append(currencies, cur)
		}
		sort.Strings(currencies)
		fmt.Fprintf(stdout, "reconciliation of %s from %s to %s\n", creditor, v.From, v.To)
		fmt.Fprintf(stdout, "%-4s %9s %16s %14s %16s %14s %14s %9s %14s\n", "cur", "payments", "recovered", "fees", "net to creditor", "waived", "recalled", "reversals", "reversed")
		for _, cur := range currencies {
			t := v.Totals[cur]
			fmt.Fprintf(stdout, "%-4s %9d %16s %14s %16s %14s %14s %9d %14s\n", cur, t.Payments, t.Recovered, t.Fees, t.NetToCreditor, t.Waived, t.Recalled, t.Reversals, t.Reversed)
		}
		if m != nil {
			fmt.Fprintf(stdout, "\nstatement: %d matched, %d missing from the ledger, %d missing from the statement, %d amount mismatches\n",
				len(m.Matched), len(m.MissingFromLedger), len(m.MissingFromStatement), len(m.AmountMismatches))
			for _, l := range m.MissingFromLedger {
				fmt.Fprintf(stdout, "  missing from the ledger:    statement line %d: %s %s %s %s %s\n", l.Line, l.Date, l.ClaimNumber, l.PaymentNumber, l.Amount, l.Currency)
			}
			for _, p := range m.MissingFromStatement {
				fmt.Fprintf(stdout, "  missing from the statement: %s %s %s %s %s\n", p.Date, p.ClaimNumber, p.PaymentNumber, p.Amount, p.Currency)
			}
			for _, p := range m.AmountMismatches {
				fmt.Fprintf(stdout, "  amount mismatch:            statement line %d: %s %s %s in the statement, %s %s in the ledger\n",
					p.Statement.Line, p.Statement.ClaimNumber, p.Statement.Amount, p.Statement.Currency, p.Ledger.Amount, p.Ledger.Currency)
			}
		}
	}
	if m != nil && !m.Clean() {
		return 1
	}
	return 0
}

// paymentsOf keeps the payments of the claims named (comma-separated); all
// of them when none is.
func paymentsOf(payments []reconcile.Payment, claims string) []reconcile.Payment {
	if strings.TrimSpace(claims) == "" {
		return payments
	}
	named := map[string]bool{}
	for _, c := range strings.Split(claims, ",") {
		named[strings.TrimSpace(c)] = true
	}
	var out []reconcile.Payment
	for _, p := range payments {
		if named[p.ClaimNumber] {
			out = append(out, p)
		}
	}
	return out
}
