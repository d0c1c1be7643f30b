package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// trialBalanceCmd prints the trial balance of one creditor (-creditor) or of
// every creditor, as of a date, by value or booking date, from the read
// models (caught up with the store first): CSV, or JSON with -json. Besides
// openForCLIAt's codes, it returns 2 for a bad flag, 1 when the balance
// cannot be made or does not balance, and 0 otherwise.
func trialBalanceCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var creditor, currency, asOf, basis, viewsDir string
	var asJSON bool
	store, location, code, ok := openForCLIAt("trial-balance", args, getenv, stderr, func(fs *flag.FlagSet) {
		envString(fs, &viewsDir, "LEDGER_VIEWS", getenv, "", "the read models' directory (default: beside the embedded store)")
		fs.StringVar(&creditor, "creditor", "", "only this creditor's accounts (default: every creditor's)")
		fs.StringVar(&currency, "currency", "", "only this currency (ISO 4217)")
		fs.StringVar(&asOf, "asOf", time.Now().UTC().Format(time.DateOnly), "the last date counted (YYYY-MM-DD)")
		fs.StringVar(&basis, "basis", projections.BasisValue, "value or booking: which date counts")
		fs.BoolVar(&asJSON, "json", false, "print JSON rather than CSV")
	})
	if !ok {
		return code
	}
	defer store.Close()
	_, knownCurrency := domain.MinorUnits(currency)
	_, validDate := domain.ParseDate(asOf)
	switch {
	case creditor != "" && !domain.ValidCreditorID(creditor):
		fmt.Fprintln(stderr, "ledger trial-balance: -creditor is not a creditor id")
		return 2
	case currency != "" && !knownCurrency:
		fmt.Fprintln(stderr, "ledger trial-balance: -currency must be an ISO 4217 code the ledger accepts")
		return 2
	case !validDate:
		fmt.Fprintln(stderr, "ledger trial-balance: -asOf must be a date YYYY-MM-DD")
		return 2
	case basis != projections.BasisValue && basis != projections.BasisBooking:
		fmt.Fprintln(stderr, "ledger trial-balance: -basis must be value or booking")
		return 2
	}
	views, err := catchUpViews(ctx, store, location, viewsDir, false, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ledger trial-balance:", err)
		return 1
	}
	defer views.Close()
	tb, err := views.TrialBalance(creditor, currency, asOf, basis)
	if err != nil {
		fmt.Fprintln(stderr, "ledger trial-balance:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(tb)
	} else {
		err = tb.WriteCSV(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger trial-balance:", err)
		return 1
	}
	for _, t := range tb.Totals {
		if !decimal.Decimal(t.TotalDebit).Equal(decimal.Decimal(t.TotalCredit)) {
			fmt.Fprintf(stderr, "ledger trial-balance: %s does not balance\n", t.Currency)
			return 1
		}
	}
	return 0
}
