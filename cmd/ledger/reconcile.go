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

// reconcileCmd prints a creditor's reconciliation report over a window of
// time from the read models (caught up with the store first), as a table or
// as JSON; with -statement, it also matches the creditor's statement of
// direct payments against the ledger's payments. Besides openForCLIAt's
// codes, it returns 2 for a bad creditor, window or basis or an unreadable
// statement, 1 when the report cannot be made or the statement does not
// match, and 0 otherwise.
func reconcileCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var creditor, from, to, basis, statement, claims, viewsDir string
	var asJSON bool
	store, location, code, ok := openForCLIAt("reconcile", args, getenv, stderr, func(fs *flag.FlagSet) {
		envString(fs, &viewsDir, "LEDGER_VIEWS", getenv, "", "the read models' directory (default: beside the embedded store)")
		fs.StringVar(&creditor, "creditor", "", "the creditor (required)")
		fs.StringVar(&from, "from", "", "start, inclusive (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&to, "to", "", "end, exclusive (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&basis, "basis", reconcile.BasisValue, "select entries by value date (value) or by booking time (booking)")
		fs.StringVar(&statement, "statement", "", "the creditor's statement of direct payments (CSV: date,claimNumber,paymentNumber,amount,currency)")
		fs.StringVar(&claims, "claims", "", "with -statement: match it against these claims' payments only (claim numbers, comma-separated), not every payment of the creditor in the window")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if !ok {
		return code
	}
	defer store.Close()
	if !domain.ValidCreditorID(creditor) {
		fmt.Fprintln(stderr, "ledger reconcile: -creditor is required")
		return 2
	}
	window, err := parseWindow(from, to)
	if err == nil && !reconcile.ValidBasis(basis) {
		err = fmt.Errorf("-basis %q is neither value nor booking", basis)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger reconcile:", err)
		return 2
	}
	var lines []reconcile.StatementLine
	if statement != "" {
		if lines, err = readStatement(statement); err != nil {
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
	r, err := views.Reconciliation(creditor, basis, window[0], window[1])
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
		printReconciliation(stdout, creditor, r.View(), m)
	}
	if m != nil && !m.Clean() {
		return 1
	}
	return 0
}

// parseWindow reads -from and -to (RFC 3339 times or YYYY-MM-DD dates) as a
// window [from, to); an empty -from is the zero time and an empty -to the
// year 9999.
func parseWindow(from, to string) ([2]time.Time, error) {
	window := [2]time.Time{{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i, raw := range []string{from, to} {
		if raw == "" {
			continue
		}
		if t, ok := domain.ParseDate(raw); ok {
			window[i] = t
		} else if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
			window[i] = t
		} else {
			return window, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", raw)
		}
	}
	return window, nil
}

// readStatement reads a creditor's statement of direct payments from the
// CSV file at path.
func readStatement(path string) ([]reconcile.StatementLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return reconcile.ParseStatement(f)
}

// printReconciliation prints the report v of creditor as a table of totals
// per currency and, when a statement was matched (m not nil), the matching's
// counts and every line that did not match.
func printReconciliation(w io.Writer, creditor string, v reconcile.ReportView, m *reconcile.Matching) {
	currencies := make([]string, 0, len(v.Totals))
	for cur := range v.Totals {
		currencies = append(currencies, cur)
	}
	sort.Strings(currencies)
	fmt.Fprintf(w, "reconciliation of %s from %s to %s\n", creditor, v.From, v.To)
	fmt.Fprintf(w, "%-4s %9s %16s %14s %16s %14s %14s %9s %14s\n", "cur", "payments", "recovered", "fees", "net to creditor", "waived", "recalled", "reversals", "reversed")
	for _, cur := range currencies {
		t := v.Totals[cur]
		fmt.Fprintf(w, "%-4s %9d %16s %14s %16s %14s %14s %9d %14s\n", cur, t.Payments, t.Recovered, t.Fees, t.NetToCreditor, t.Waived, t.Recalled, t.Reversals, t.Reversed)
	}
	if m == nil {
		return
	}
	fmt.Fprintf(w, "\nstatement: %d matched, %d missing from the ledger, %d missing from the statement, %d amount mismatches\n",
		len(m.Matched), len(m.MissingFromLedger), len(m.MissingFromStatement), len(m.AmountMismatches))
	for _, l := range m.MissingFromLedger {
		fmt.Fprintf(w, "  missing from the ledger:    statement line %d: %s %s %s %s %s\n", l.Line, l.Date, l.ClaimNumber, l.PaymentNumber, l.Amount, l.Currency)
	}
	for _, p := range m.MissingFromStatement {
		fmt.Fprintf(w, "  missing from the statement: %s %s %s %s %s\n", p.Date, p.ClaimNumber, p.PaymentNumber, p.Amount, p.Currency)
	}
	for _, p := range m.AmountMismatches {
		fmt.Fprintf(w, "  amount mismatch:            statement line %d: %s %s %s in the statement, %s %s in the ledger\n",
			p.Statement.Line, p.Statement.ClaimNumber, p.Statement.Amount, p.Statement.Currency, p.Ledger.Amount, p.Ledger.Currency)
	}
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
