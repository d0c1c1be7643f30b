package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// The dashboard restates two rules of the ledger in web/static/app.js, so
// that its dialogs answer as one types: the fee after a payment (domain.Fee)
// and what a partial recall leaves open. These tests run the page's own
// functions under node, without a browser, on cases whose answers the domain
// gives: the same placement decided by domain.Decide and shown as
// projections.Render shows it to the page.
//
// Both previews read plain decimals ("120.50"); an exponent ("1e2"), which
// the ledger also reads, is not a case here.

var (
	jsPlacedAt = time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	jsPaidAt   = jsPlacedAt.Add(time.Hour)
)

// jsPlacement is a placement in currency at rate with one invoice per
// amount, all due the same day, after the earlier payments paid.
func jsPlacement(t *testing.T, currency, rate string, invoices []string, paid ...string) domain.Placement {
	t.Helper()
	place := domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "JS-1", CustomerNumber: "K-1",
		Currency: currency, FeeRate: decimal.RequireFromString(rate), At: jsPlacedAt}
	for i, a := range invoices {
		place.Invoices = append(place.Invoices, domain.Invoice{InvoiceNumber: fmt.Sprintf("I-%d", i+1),
			Amount: domain.AmountOf(decimal.RequireFromString(a)), DueDate: "2024-08-01"})
	}
	p := jsDecide(t, domain.Placement{}, place)
	for _, a := range paid {
		p = jsDecide(t, p, domain.ReceivePayment{Amount: decimal.RequireFromString(a), At: jsPaidAt})
	}
	return p
}

func jsDecide(t *testing.T, p domain.Placement, c domain.Command) domain.Placement {
	t.Helper()
	d := domain.Decide(p, c)
	require.NoError(t, d.Err)
	for _, e := range d.Events {
		p = domain.Evolve(p, e)
	}
	return p
}

// jsCheck is one call of a function of app.js, and what it must answer.
type jsCheck[T any] struct {
	name string
	args []any
	want T
}

// checkAppJS loads app.js into node with a document that never fires, calls
// fn (a function of app.js) with each check's arguments, and compares each
// answer with the one wanted, in a subtest named as the check. Without node
// the test skips, except in CI, where .ci/run installs it.
func checkAppJS[T any](t *testing.T, fn string, checks []jsCheck[T]) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is missing in CI: .ci/run installs Debian's nodejs")
		}
		t.Skip("node is missing, so app.js cannot be checked against the domain: apt-get install -y nodejs")
	}
	const harness = `
const fs = require("fs"), vm = require("vm");
const page = { document: { addEventListener() {} } };
vm.createContext(page);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), page, { filename: "app.js" });
const fn = page[process.argv[2]];
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((args) => fn(...args))));
`
	args := make([][]any, len(checks))
	for i, c := range checks {
		args[i] = c.args
	}
	in, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(node, "-e", harness, "web/static/app.js", fn)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var answers []json.RawMessage
	require.NoError(t, json.Unmarshal(out, &answers))
	require.Len(t, answers, len(checks))
	for i, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var got T
			require.NoError(t, json.Unmarshal(answers[i], &got), string(answers[i]))
			assert.Equal(t, c.want, got)
		})
	}
}

// The messages of the "Mark as paid" preview for a refused amount.
const (
	jsEnterAmount  = "enter an amount like 120.50"
	jsMoreThanOwed = "more than is still owed"
)

// feeWanted is what the ledger answers when amount (as typed into the
// dashboard's form) is paid on p: the fee after it, as the preview writes
// it, or which refusal.
func feeWanted(t *testing.T, p domain.Placement, typed string) string {
	t.Helper()
	amount, err := domain.ParseAmount([]byte(strings.TrimSpace(typed)), "", "amount") // as the dashboard reads it
	if err != nil {
		return jsEnterAmount
	}
	d := domain.Decide(p, domain.ReceivePayment{Amount: amount, At: jsPaidAt})
	switch {
	case errors.Is(d.Err, domain.ErrAmountExceeds):
		return jsMoreThanOwed
	case d.Err != nil:
		return jsEnterAmount
	}
	paid, ok := d.Events[0].(domain.PaymentReceived)
	require.True(t, ok, "%T", d.Events[0])
	fee := domain.Fee(p.Recovered.Add(domain.AmountOf(amount)).Decimal(), p.FeeRate, p.Currency)
	require.True(t, fee.Equal(paid.FeeAmount.Decimal()), "the payment records domain.Fee")
	return domain.FormatMoney(fee, p.Currency) + " " + p.Currency
}

func TestAppJSFeeAfterIsDomainFee(t *testing.T) {
	cases := []struct {
		name, currency, rate string
		invoices, paid       []string
		typed                string
	}{
		{name: "EUR", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "100"},
		{name: "EUR half a cent rounds up", currency: "EUR", rate: "0.1", invoices: []string{"1.00"}, typed: "0.05"},
		{name: "EUR half a cent above whole cents", currency: "EUR", rate: "0.5", invoices: []string{"20.00"}, typed: "10.05"},
		{name: "EUR under half a cent rounds down", currency: "EUR", rate: "0.1", invoices: []string{"1.00"}, typed: "0.04"},
		{name: "EUR four-decimal rate", currency: "EUR", rate: "0.3333", invoices: []string{"1000.00"}, typed: "333.33"},
		{name: "EUR after an earlier payment", currency: "EUR", rate: "0.15", invoices: []string{"500.00", "250.00"}, paid: []string{"100.10"}, typed: "0.07"},
		{name: "EUR typed with spaces", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: " 12.50 "},
		{name: "EUR rate zero", currency: "EUR", rate: "0", invoices: []string{"100.00"}, typed: "99.99"},
		{name: "EUR rate one", currency: "EUR", rate: "1", invoices: []string{"100.00"}, typed: "12.34"},
		{name: "EUR largest amounts", currency: "EUR", rate: "0.3333", invoices: []string{"999999999999.99"}, typed: "999999999999.99"},
		{name: "EUR beyond a float's digits", currency: "EUR", rate: "0.0005", invoices: []string{"999999999999.99"}, paid: []string{"123456789012.34"}, typed: "0.01"},
		{name: "JPY half a yen rounds up", currency: "JPY", rate: "0.1", invoices: []string{"1000"}, typed: "5"},
		{name: "JPY four-decimal rate", currency: "JPY", rate: "0.0125", invoices: []string{"100000"}, typed: "99999"},
		{name: "BHD half a fils rounds up", currency: "BHD", rate: "0.1", invoices: []string{"1.000"}, typed: "0.005"},
		{name: "BHD after an earlier payment", currency: "BHD", rate: "0.2", invoices: []string{"10.000"}, paid: []string{"1.234"}, typed: "2.5"},
		{name: "more than is owed", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "100.01"},
		{name: "zero", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "0"},
		{name: "EUR with an exponent", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "1e2"},
		{name: "EUR with a negative exponent", currency: "EUR", rate: "0.1", invoices: []string{"100.00"}, typed: "5E-1"},
		{name: "EUR with an exponent and decimals", currency: "EUR", rate: "0.1", invoices: []string{"100.00"}, typed: "1.2345e2"},
		{name: "EUR with an exponent too precise", currency: "EUR", rate: "0.1", invoices: []string{"100.00"}, typed: "1e-3"},
		{name: "JPY with an exponent", currency: "JPY", rate: "0.1", invoices: []string{"1000"}, typed: "1.5e2"},
		{name: "blank", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: ""},
		{name: "negative", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "-5"},
		{name: "a word", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "ten"},
		{name: "more decimals than EUR has", currency: "EUR", rate: "0.20", invoices: []string{"100.00"}, typed: "1.001"},
		{name: "decimals JPY does not have", currency: "JPY", rate: "0.20", invoices: []string{"1000"}, typed: "1.5"},
	}
	checks := make([]jsCheck[string], len(cases))
	for i, tc := range cases {
		p := jsPlacement(t, tc.currency, tc.rate, tc.invoices, tc.paid...)
		v := projections.Render(p, p.Version)
		// The pay form's data attributes (templates/detail.html).
		data := map[string]string{"recovered": v.RecoveredAmount, "outstanding": v.OutstandingAmount, "rate": v.FeeRate, "currency": v.Currency}
		checks[i] = jsCheck[string]{name: tc.name, args: []any{data, tc.typed}, want: feeWanted(t, p, tc.typed)}
	}
	checkAppJS(t, "feeAfter", checks)
}

// waived is waiveAfter's answer.
type waived struct {
	Remains     []remains `json:"remains"`
	Outstanding *string   `json:"outstanding"`
}

// remains is what waiveAfter says of one invoice.
type remains struct {
	Text    string `json:"text"`
	Invalid bool   `json:"invalid"`
}

// The messages of the partial-recall form for a refused amount.
const (
	jsNotAnAmount  = "not an amount"
	jsMoreThanOpen = "more than is open"
	jsNotPositive  = "must be positive"
)

// waiveWanted is what the ledger answers to the partial-recall form with
// typed (one value per invoice, blank for none) on p: what each waiver
// leaves open on its invoice, or which refusal; what remains outstanding
// when no amount is refused.
func waiveWanted(t *testing.T, p domain.Placement, typed []string) waived {
	t.Helper()
	var w waived
	var all []domain.Waiver
	refused := false
	for i, inv := range p.Invoices {
		text := domain.FormatMoney(inv.Open.Decimal(), p.Currency)
		invalid := false
		if raw := strings.TrimSpace(typed[i]); raw != "" {
			amount, err := domain.ParseAmount([]byte(raw), p.Currency, "amount") // as the dashboard reads it
			waiver := domain.Waiver{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: amount, Currency: p.Currency}
			d := domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{waiver}, At: jsPaidAt})
			e, _ := domain.AsError(d.Err)
			switch {
			case err != nil:
				text, invalid = jsNotAnAmount, true
			case e != nil && e.Code == "amount_exceeds_open":
				text, invalid = jsMoreThanOpen, true
			case e != nil && e.Kind == domain.KindInvalid && len(e.Fields) == 1 && e.Fields[0].Message == jsNotPositive:
				text, invalid = jsNotPositive, true
			default:
				require.NoError(t, d.Err)
				after := p
				for _, ev := range d.Events {
					after = domain.Evolve(after, ev)
				}
				text = domain.FormatMoney(after.Invoices[i].Open.Decimal(), p.Currency)
				all = append(all, waiver)
			}
		}
		w.Remains = append(w.Remains, remains{Text: text, Invalid: invalid})
		refused = refused || invalid
	}
	if refused {
		return w // no outstanding while an amount is refused
	}
	after := p
	if len(all) > 0 {
		after = jsDecide(t, p, domain.PartialRecall{Waivers: all, At: jsPaidAt})
	}
	outstanding := domain.FormatMoney(after.Outstanding(), p.Currency)
	w.Outstanding = &outstanding
	return w
}

func TestAppJSWaiveAfterIsTheOpenAmountRule(t *testing.T) {
	cases := []struct {
		name, currency string
		invoices, paid []string
		typed          []string
	}{
		{name: "EUR part of one invoice", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"10.50", ""}},
		{name: "EUR all of both", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"100", "50.00"}},
		{name: "EUR a cent more than is open", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"", "50.01"}},
		{name: "EUR more decimals than EUR has", currency: "EUR", invoices: []string{"100.00"}, typed: []string{"1.001"}},
		{name: "EUR a word", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"ten", "5"}},
		{name: "EUR negative", currency: "EUR", invoices: []string{"100.00"}, typed: []string{"-1"}},
		{name: "EUR after a payment", currency: "EUR", invoices: []string{"100.00", "100.00"}, paid: []string{"30.00"}, typed: []string{"70", "0.01"}},
		{name: "EUR after a payment, more than is left open", currency: "EUR", invoices: []string{"100.00", "100.00"}, paid: []string{"30.00"}, typed: []string{"70.01", ""}},
		{name: "EUR largest amounts", currency: "EUR", invoices: []string{"999999999999.99", "0.01"}, typed: []string{"0.01", ""}},
		{name: "JPY", currency: "JPY", invoices: []string{"1000"}, typed: []string{"999"}},
		{name: "JPY decimals it does not have", currency: "JPY", invoices: []string{"1000"}, typed: []string{"0.5"}},
		{name: "BHD", currency: "BHD", invoices: []string{"1.500", "2.250"}, typed: []string{"0.005", "2.25"}},
		{name: "nothing typed", currency: "EUR", invoices: []string{"100.00"}, typed: []string{" "}},
		{name: "EUR a typed zero", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"0", "5"}},
		{name: "EUR a typed zero with decimals", currency: "EUR", invoices: []string{"100.00"}, typed: []string{"0.00"}},
		{name: "EUR with an exponent", currency: "EUR", invoices: []string{"100.00", "50.00"}, typed: []string{"1e1", "2.5E1"}},
		{name: "EUR with an exponent too precise", currency: "EUR", invoices: []string{"100.00"}, typed: []string{"1e-3"}},
		{name: "BHD with a negative exponent", currency: "BHD", invoices: []string{"1.500"}, typed: []string{"5e-3"}},
	}
	checks := make([]jsCheck[waived], len(cases))
	for i, tc := range cases {
		p := jsPlacement(t, tc.currency, "0.20", tc.invoices, tc.paid...)
		v := projections.Render(p, p.Version)
		// The waive form's data attributes (templates/detail.html).
		opens := make([]string, len(v.Invoices))
		for j, inv := range v.Invoices {
			opens[j] = inv.OpenAmount
		}
		checks[i] = jsCheck[waived]{name: tc.name, args: []any{v.OutstandingAmount, opens, tc.typed}, want: waiveWanted(t, p, tc.typed)}
	}
	checkAppJS(t, "waiveAfter", checks)
}
