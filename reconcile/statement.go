package reconcile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// StatementLine is one direct payment in a creditor's own statement.
type StatementLine struct {
	Line          int             `json:"line"`
	Date          string          `json:"date"`
	ClaimNumber   string          `json:"claimNumber"`
	PaymentNumber string          `json:"paymentNumber"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
}

// StatementColumns are the statement's columns, found by their header names.
var StatementColumns = []string{"date", "claimNumber", "paymentNumber", "amount", "currency"}

// MaxStatementLines bounds a statement.
const MaxStatementLines = 1_000_000

// ParseStatement reads a statement CSV. Its first row names the columns
// (any order; all of StatementColumns are required). Every refusal names the
// line and the column.
func ParseStatement(r io.Reader) ([]StatementLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("statement: empty: the first row must name the columns %s", strings.Join(StatementColumns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, c := range StatementColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("statement: the header has no %q column (it needs %s)", c, strings.Join(StatementColumns, ","))
		}
	}
	var out []StatementLine
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("statement line %d: %w", line, err)
		}
		if len(out) >= MaxStatementLines {
			return nil, fmt.Errorf("statement: more than %d lines", MaxStatementLines)
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l := StatementLine{Line: line, Date: get("date"), ClaimNumber: get("claimNumber"), PaymentNumber: get("paymentNumber"), Currency: get("currency")}
		if _, ok := domain.ParseDate(l.Date); !ok {
			return nil, fmt.Errorf("statement line %d, column date: %q is not a date YYYY-MM-DD", line, l.Date)
		}
		if !domain.ValidIdentifier(l.ClaimNumber) {
			return nil, fmt.Errorf("statement line %d, column claimNumber: %q is not a claim number", line, l.ClaimNumber)
		}
		if l.PaymentNumber != "" && !domain.ValidIdentifier(l.PaymentNumber) {
			return nil, fmt.Errorf("statement line %d, column paymentNumber: %q is not a payment number", line, l.PaymentNumber)
		}
		if _, ok := domain.MinorUnits(l.Currency); !ok {
			return nil, fmt.Errorf("statement line %d, column currency: %q is not a currency the ledger knows", line, l.Currency)
		}
		// A reversed payment is a line of its own with a negative amount.
		raw, negative := strings.CutPrefix(get("amount"), "-")
		if l.Amount, err = domain.ParseAmount([]byte(raw), l.Currency, "amount"); err != nil {
			return nil, fmt.Errorf("statement line %d, column amount: %v", line, err)
		}
		if negative {
			l.Amount = l.Amount.Neg()
		}
		out = append(out, l)
	}
}

// Pair is a statement line with the ledger payment it was matched to.
type Pair struct {
	Statement StatementLine `json:"statement"`
	Ledger    Payment       `json:"ledger"`
}

// Matching is the outcome of matching a statement against the ledger.
type Matching struct {
	Matched              []Pair          `json:"matched"`
	MissingFromLedger    []StatementLine `json:"missingFromLedger"`
	MissingFromStatement []Payment       `json:"missingFromStatement"`
	AmountMismatches     []Pair          `json:"amountMismatches"`
}

// Clean reports whether everything matched.
func (m Matching) Clean() bool {
	return len(m.MissingFromLedger) == 0 && len(m.MissingFromStatement) == 0 && len(m.AmountMismatches) == 0
}

// Match pairs statement lines with the ledger's payments and reversals: by
// claim number, payment number and sign (a reversal's line is negative) when
// the line has a number, otherwise by claim number, date and amount. A pair
// whose amount or currency differ is a mismatch.
func Match(ledger []Payment, statement []StatementLine) Matching {
	m := Matching{Matched: []Pair{}, MissingFromLedger: []StatementLine{}, MissingFromStatement: []Payment{}, AmountMismatches: []Pair{}}
	byNumber := map[string][]int{}
	byDateAmount := map[string][]int{}
	used := make([]bool, len(ledger))
	for i, p := range ledger {
		if p.PaymentNumber != "" {
			k := numberKey(p.ClaimNumber, p.PaymentNumber, p.Amount)
			byNumber[k] = append(byNumber[k], i)
		}
		k := p.ClaimNumber + "\x00" + p.Date + "\x00" + p.Amount.String()
		byDateAmount[k] = append(byDateAmount[k], i)
	}
	take := func(candidates []int) (int, bool) {
		for _, i := range candidates {
			if !used[i] {
				used[i] = true
				return i, true
			}
		}
		return 0, false
	}
	for _, l := range statement {
		var i int
		var found bool
		if l.PaymentNumber != "" {
			i, found = take(byNumber[numberKey(l.ClaimNumber, l.PaymentNumber, l.Amount)])
		} else {
			i, found = take(byDateAmount[l.ClaimNumber+"\x00"+l.Date+"\x00"+l.Amount.String()])
		}
		switch {
		case !found:
			m.MissingFromLedger = append(m.MissingFromLedger, l)
		case !ledger[i].Amount.Equal(l.Amount) || ledger[i].Currency != l.Currency:
			m.AmountMismatches = append(m.AmountMismatches, Pair{Statement: l, Ledger: ledger[i]})
		default:
			m.Matched = append(m.Matched, Pair{Statement: l, Ledger: ledger[i]})
		}
	}
	for i, p := range ledger {
		if !used[i] {
			m.MissingFromStatement = append(m.MissingFromStatement, p)
		}
	}
	return m
}

// numberKey keys a payment (or, for a negative amount, its reversal) by
// claim and payment number.
func numberKey(claim, number string, amount decimal.Decimal) string {
	sign := "+"
	if amount.IsNegative() {
		sign = "-"
	}
	return claim + "\x00" + number + "\x00" + sign
}
