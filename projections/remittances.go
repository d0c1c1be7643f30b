package projections

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// settlementItem is the settlement item an event's postings make, when
// they move agency/payable: a payment to the agency or its reversal.
func settlementItem(ps []domain.Posting, position eventstore.Position, claim, doc string) (journal.SettlementItem, string, bool) {
	item := journal.SettlementItem{Position: uint64(position), ClaimNumber: claim, DocumentNumber: doc}
	var currency string
	moves := false
	for _, p := range ps {
		switch p.Account {
		case domain.AccountAgencyPayable:
			item.Collected += p.Signed()
			item.ValueDate, currency, moves = p.ValueDate, p.Currency, true
		case domain.AccountFees:
			item.Fee += p.Signed()
		}
	}
	return item, currency, moves
}

// unsettle lists an agency payment or reversal among its creditor's
// unsettled items ('u'), until a remittance settles it.
func (t *tx) unsettle(creditor string, ps []domain.Posting, rec journal.Record, claim, doc string) error {
	item, currency, moves := settlementItem(ps, rec.Position, claim, doc)
	if !moves {
		return nil
	}
	return t.setJSON(unsettledKey(t.gen, creditor, currency, item), item)
}

func unsettledKey(gen *generations, creditor, currency string, item journal.SettlementItem) keyBuf {
	return key(gen, tUnsettled).str(creditor).str(currency).str(item.ValueDate).u64(item.Position)
}

// applyRemittance records a remittance ('z', its stream's revision in 'a'),
// takes the items it settles off the unsettled ones, and adds its postings
// to the creditor's trial-balance aggregates ('t').
func (t *tx) applyRemittance(raw eventstore.RecordedEvent, creditor string) error {
	var r journal.RemittanceIssued
	if err := json.Unmarshal(raw.Data, &r); err != nil {
		return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
	}
	m, err := journal.DecodeMetadata(raw.Metadata)
	if err != nil {
		return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
	}
	for _, it := range r.Items {
		if err := t.del(unsettledKey(t.gen, creditor, r.Currency, it)); err != nil {
			return err
		}
	}
	issued := m.OccurredAt.UTC()
	if err := t.setJSON(key(t.gen, tRemittance).str(creditor).str(r.RemittanceNumber),
		journal.Remittance{RemittanceIssued: r, Position: uint64(raw.Position), IssuedAt: issued}); err != nil {
		return err
	}
	if err := t.set(key(t.gen, tRemittanceRev).str(creditor), u64bytes(raw.Revision)); err != nil {
		return err
	}
	return t.addTrial(creditor, issued, raw.Position, r.Postings(issued))
}

// Unsettled returns a creditor's unsettled items in currency with a value
// date on or before to (YYYY-MM-DD), by value date then position.
func (v *Views) Unsettled(creditor, currency, to string) ([]journal.SettlementItem, error) {
	prefix := key(v.generation(), tUnsettled).str(creditor).str(currency)
	items := []journal.SettlementItem{}
	err := v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		var it journal.SettlementItem
		if err := json.Unmarshal(val, &it); err != nil {
			return false, err
		}
		if it.ValueDate > to {
			return false, nil
		}
		items = append(items, it)
		return true, nil
	})
	return items, err
}

// Remittance returns a creditor's remittance by its number.
func (v *Views) Remittance(creditor, number string) (journal.Remittance, bool, error) {
	var r journal.Remittance
	b, err := v.get(key(v.generation(), tRemittance).str(creditor).str(number))
	if err != nil || b == nil {
		return r, false, err
	}
	return r, true, json.Unmarshal(b, &r)
}

// RemittanceRevision returns the revision of a creditor's remittance
// stream; exists is false when it has none.
func (v *Views) RemittanceRevision(creditor string) (revision uint64, exists bool, err error) {
	b, err := v.get(key(v.generation(), tRemittanceRev).str(creditor))
	if err != nil || b == nil {
		return 0, false, err
	}
	if len(b) != 8 {
		return 0, false, fmt.Errorf("projections: a remittance revision of %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), true, nil
}

// HasCreditor reports whether the views know a placement of creditor.
func (v *Views) HasCreditor(creditor string) (bool, error) {
	prefix := key(v.generation(), tList).str(creditor)
	found := false
	err := v.scan(prefix, prefix.upper(), func(_, _ []byte) (bool, error) {
		found = true
		return false, nil
	})
	return found, err
}

// RemittanceDocument is a settled item as the remittance report serves it.
type RemittanceDocument struct {
	Position       uint64 `json:"position"`
	ClaimNumber    string `json:"claimNumber"`
	DocumentNumber string `json:"documentNumber"`
	ValueDate      string `json:"valueDate"`
	Collected      Exact  `json:"collected"`
	Fee            Exact  `json:"fee"`
}

// RemittanceResource is a remittance as the API serves it, amounts in the
// currency's units.
type RemittanceResource struct {
	RemittanceNumber string               `json:"remittanceNumber"`
	CreditorID       string               `json:"creditorId"`
	Currency         string               `json:"currency"`
	To               string               `json:"to"`
	Amount           Exact                `json:"amount"`
	Collected        Exact                `json:"collected"`
	Fees             Exact                `json:"fees"`
	Documents        []RemittanceDocument `json:"documents"`
	Position         uint64               `json:"position"`
	IssuedAt         string               `json:"issuedAt"`
}

// RenderRemittance is a recorded remittance as the API serves it.
func RenderRemittance(r journal.Remittance) RemittanceResource {
	major := func(n int64) Exact { return Exact(domain.MajorAmount(n, r.Currency)) }
	out := RemittanceResource{RemittanceNumber: r.RemittanceNumber, CreditorID: r.CreditorID, Currency: r.Currency, To: r.To,
		Amount: major(r.Amount), Collected: major(r.Collected), Fees: major(r.Fees), Documents: []RemittanceDocument{},
		Position: r.Position, IssuedAt: r.IssuedAt.UTC().Format(time.RFC3339Nano)}
	for _, it := range r.Items {
		out.Documents = append(out.Documents, RemittanceDocument{Position: it.Position, ClaimNumber: it.ClaimNumber,
			DocumentNumber: it.DocumentNumber, ValueDate: it.ValueDate, Collected: major(it.Collected), Fee: major(it.Fee)})
	}
	return out
}

// Remittances returns the remittances of creditor ("" for every creditor's)
// in the order they were issued.
func (v *Views) Remittances(creditor string) ([]RemittanceResource, error) {
	prefix := key(v.generation(), tRemittance)
	if creditor != "" {
		prefix = prefix.str(creditor)
	}
	var rs []journal.Remittance
	err := v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		var r journal.Remittance
		if err := json.Unmarshal(val, &r); err != nil {
			return false, err
		}
		rs = append(rs, r)
		return true, nil
	})
	slices.SortFunc(rs, func(a, b journal.Remittance) int { return cmp.Compare(a.Position, b.Position) })
	out := []RemittanceResource{}
	for _, r := range rs {
		out = append(out, RenderRemittance(r))
	}
	return out, err
}

// WriteRemittancesCSV writes remittances as CSV, a row per settled
// document, each with its remittance's number, currency and totals.
func WriteRemittancesCSV(w io.Writer, rs []RemittanceResource) error {
	cw := csv.NewWriter(w)
	str := func(e Exact) string { return decimal.Decimal(e).String() }
	_ = cw.Write([]string{"remittanceNumber", "creditorId", "currency", "to", "issuedAt", "amount", "collected", "fees",
		"position", "claimNumber", "documentNumber", "valueDate", "documentCollected", "documentFee"})
	for _, r := range rs {
		for _, d := range r.Documents {
			_ = cw.Write([]string{r.RemittanceNumber, r.CreditorID, r.Currency, r.To, r.IssuedAt, str(r.Amount), str(r.Collected),
				str(r.Fees), strconv.FormatUint(d.Position, 10), d.ClaimNumber, d.DocumentNumber, d.ValueDate, str(d.Collected), str(d.Fee)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// RemittanceFigures are what the finance page shows of a creditor's
// remittances in one currency: what the agency owes (the net of the
// unsettled items up to a date) and what it remitted.
type RemittanceFigures struct {
	Owed     decimal.Decimal
	Remitted decimal.Decimal
}

// RemittanceFiguresOf returns a creditor's remittance figures in currency,
// owed up to the value date to.
func (v *Views) RemittanceFiguresOf(creditor, currency, to string) (RemittanceFigures, error) {
	items, err := v.Unsettled(creditor, currency, to)
	if err != nil {
		return RemittanceFigures{}, err
	}
	var owed, remitted int64
	for _, it := range items {
		owed += it.Net()
	}
	prefix := key(v.generation(), tRemittance).str(creditor)
	err = v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		var r journal.Remittance
		if err := json.Unmarshal(val, &r); err != nil {
			return false, err
		}
		if r.Currency == currency {
			remitted += r.Amount
		}
		return true, nil
	})
	return RemittanceFigures{Owed: domain.MajorAmount(owed, currency), Remitted: domain.MajorAmount(remitted, currency)}, err
}

// Settlements is what a remittance is decided from (command's
// RemittanceViews): a runner's views, and waiting for them to apply a
// position.
type Settlements struct {
	*Views
	runner *Runner
}

// Settlements returns the runner's views as a remittance reads them.
func (r *Runner) Settlements() Settlements { return Settlements{Views: r.Views, runner: r} }

// WaitFor blocks until the runner has applied pos (see Runner.WaitFor).
func (s Settlements) WaitFor(ctx context.Context, pos eventstore.Position) error {
	return s.runner.WaitFor(ctx, pos)
}
