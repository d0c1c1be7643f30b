package projections

import (
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/bincodec"
	"github.com/collections-ledger/ledger/journal"
)

// Bases of a trial balance: by value date or by booking date.
const (
	BasisValue   = "value"
	BasisBooking = "booking"
)

var basisByte = map[string]byte{BasisValue: 'v', BasisBooking: 'b'}

// post records an event's postings once, under its placement in log order
// ('j', in the compact form of encodePostings), adds them to its
// creditor's trial balance (see addTrial), and, when they move
// agency/payable, lists them as an unsettled item ('u') until a remittance
// settles it. ps are the event's postings (domain.Postings).
func (t *tx) post(id uuid.UUID, before, after domain.Placement, rec journal.Record, ps []domain.Posting) error {
	if len(ps) == 0 {
		return nil
	}
	doc := domain.PostingDocument(before, rec.Event)
	booked := rec.Meta.OccurredAt.UTC()
	if err := t.unsettle(after.CreditorID, ps, rec, after.ClaimNumber, doc); err != nil {
		return err
	}
	if err := t.addTrial(after.CreditorID, booked, rec.Position, ps); err != nil {
		return err
	}
	return t.set(key(t.gen, tPosting).id(id).pos(rec.Position), encodePostings(doc, booked, ps))
}

// trialKey is one trial-balance aggregate: a creditor's postings on one
// account in one currency dated one day, by value date ('v') or booking
// day ('b').
type trialKey struct {
	creditor string
	basis    byte
	date     string
	account  string
	currency string
}

// key is the aggregate's key, as key(gen, tTrial).str(k.creditor).b(k.basis).str(k.date).str(k.account).str(k.currency)
// builds it, in one allocation with room for a row's position after it
// (rowKey): a trial row is written for every posting.
func (k trialKey) key(gen *generations) keyBuf {
	b := keyRoom(gen, tTrial, len(k.creditor)+len(k.date)+len(k.account)+len(k.currency)+4*binary.MaxVarintLen64+1+8)
	b = appendKeyStr(b, k.creditor)
	b = append(b, k.basis)
	b = appendKeyStr(b, k.date)
	b = appendKeyStr(b, k.account)
	return appendKeyStr(b, k.currency)
}

// rowKey is the key of a claim account's row of the event at pos: the
// aggregate's key, then the position.
func (k trialKey) rowKey(gen *generations, pos eventstore.Position) keyBuf {
	return binary.BigEndian.AppendUint64(k.key(gen), uint64(pos))
}

// claimAccountPrefix starts the name of every account of one claim (see
// domain.PrincipalAccount, CostsAccount, InterestsAccount and
// OverpaymentAccount); the other accounts (creditor/…, agency/…) are shared
// by all of a creditor's claims.
const claimAccountPrefix = "claim/"

// A trial-balance row ('t') is one of two kinds, told apart by its key:
//
//   - an aggregate (the key ends with the currency): the sums of a shared
//     account, debit and credit as 2 × 8 bytes big-endian, updated in place
//     (read, added to, written back: per creditor and day there are few,
//     and they stay in the trialCache);
//   - a claim account's postings of one event (the key ends with the
//     currency then the event's position, 8 bytes): debit and credit as two
//     varints, written once and never read back while applying. A claim's
//     accounts are its own, so nearly each of its postings would be a new
//     aggregate: reading one back first would read the store for nothing.
//
// TrialBalance sums both kinds alike. Books of version 2 held aggregates
// only (claim accounts included); version 3 adds rows beside them, so the
// sums stay right while such tables are served during a rebuild.
//
// An event booked on its value date (every posting of it dated the day it
// was booked, in UTC: a payment without a date, say) has the same rows on
// both bases. Since version 4 it writes them once, under the booking basis,
// with a third byte (rowBothBases) saying that they count for the value
// basis too; version 3 wrote both, unmarked, so the two kinds of table sum
// alike and neither counts twice.

// claimRows is false only in the test of an upgrade from books version 2,
// which wrote every account as an aggregate.
var claimRows = true

// rowsOncePerBasis is false only in the test of an upgrade from books
// version 3, which wrote an event's claim rows on each basis.
var rowsOncePerBasis = true

// rowBothBases ends the value of a claim account's row under the booking
// basis that counts for the value basis too.
const rowBothBases byte = 1

// addTrial adds postings booked at booked, by the event at pos, to their
// creditor's trial balance, by value date and by booking day: a claim
// account's are written as a row of the event (folded per account,
// currency and date); a shared account's sums are kept in memory and added
// to the stored aggregates once per aggregate when the batch commits
// (commitTrial), however many postings a batch adds to one.
func (t *tx) addTrial(creditor string, booked time.Time, pos eventstore.Position, ps []domain.Posting) error {
	day := domain.DateOnly(booked)
	both := rowsOncePerBasis && !slices.ContainsFunc(ps, func(p domain.Posting) bool { return !bookedOnValueDate(p.ValueDate, booked) })
	var own []trialRow // the event's rows, folded
	for _, p := range ps {
		for i, k := range [2]trialKey{{creditor, 'v', p.ValueDate, p.Account, p.Currency}, {creditor, 'b', day, p.Account, p.Currency}} {
			if claimRows && strings.HasPrefix(k.account, claimAccountPrefix) {
				if i == 0 && both { // the booking basis's row counts for it
					continue
				}
				own = foldTrialRow(own, k, p)
				continue
			}
			s := t.trial[k]
			if p.Side == domain.Debit {
				s[0] += p.Amount
			} else {
				s[1] += p.Amount
			}
			t.trial[k] = s
		}
	}
	for _, r := range own {
		t.val = binary.AppendVarint(binary.AppendVarint(t.val[:0], r.sums[0]), r.sums[1])
		if both {
			t.val = append(t.val, rowBothBases)
		}
		if err := t.setOnce(r.key.rowKey(t.gen, pos), t.val); err != nil {
			return err
		}
	}
	return nil
}

// trialRow is an event's sums on one trial-balance key.
type trialRow struct {
	key  trialKey
	sums [2]int64 // debit, credit
}

// foldTrialRow adds posting p to rows' sums of k (an event has a handful of
// postings: a slice beats a map).
func foldTrialRow(rows []trialRow, k trialKey, p domain.Posting) []trialRow {
	i := slices.IndexFunc(rows, func(r trialRow) bool { return r.key == k })
	if i < 0 {
		rows, i = append(rows, trialRow{key: k}), len(rows)
	}
	if p.Side == domain.Debit {
		rows[i].sums[0] += p.Amount
	} else {
		rows[i].sums[1] += p.Amount
	}
	return rows
}

// commitTrial adds the batch's sums of the shared accounts to their stored
// aggregates (read from the views' cache of them, or the store) and leaves
// the new totals in t.trial, for the cache once the batch is committed.
func (t *tx) commitTrial() error {
	for k, s := range t.trial {
		kb := k.key(t.gen)
		stored, cached := t.trials.get(k)
		if !cached {
			old, err := t.v.get(kb)
			switch {
			case err != nil:
				return err
			case len(old) == 16:
				stored = [2]int64{int64(binary.BigEndian.Uint64(old)), int64(binary.BigEndian.Uint64(old[8:]))}
			case old != nil:
				return fmt.Errorf("projections: a trial-balance aggregate of %d bytes", len(old))
			}
		}
		s[0], s[1] = s[0]+stored[0], s[1]+stored[1]
		t.trial[k] = s
		if err := t.set(kb, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(s[0])), uint64(s[1]))); err != nil {
			return err
		}
	}
	return nil
}

func newTrialCache() *trialCache {
	return &trialCache{max: 100_000, sums: map[trialKey][2]int64{}}
}

// trialCache keeps stored trial-balance aggregates (applier only), so that
// adding to a busy one (a creditor account's today) reads nothing; when
// full, an arbitrary entry makes room.
type trialCache struct {
	max  int
	sums map[trialKey][2]int64
}

func (c *trialCache) get(k trialKey) ([2]int64, bool) {
	s, ok := c.sums[k]
	return s, ok
}

func (c *trialCache) put(k trialKey, s [2]int64) {
	if _, present := c.sums[k]; !present && len(c.sums) >= c.max {
		for victim := range c.sums {
			delete(c.sums, victim)
			break
		}
	}
	c.sums[k] = s
}

func (c *trialCache) clear() { clear(c.sums) }

// Sides of a posting in its compact form.
const (
	sideDebit  = 'd'
	sideCredit = 'c'
)

// encodePostings is an event's postings as 'j' keeps them: its document
// number and booking time, then each posting's account, side, amount in
// minor units, currency and value date (as days since 1970 when it is a
// date, else as written).
func encodePostings(doc string, booked time.Time, ps []domain.Posting) []byte {
	b := make([]byte, 0, 32+len(doc)+len(ps)*48)
	b = bincodec.AppendString(b, doc)
	b = binary.AppendVarint(b, booked.Unix())
	b = binary.AppendUvarint(b, uint64(booked.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = bincodec.AppendString(b, p.Account)
		side := byte(sideCredit)
		if p.Side == domain.Debit {
			side = sideDebit
		}
		b = append(b, side)
		b = binary.AppendVarint(b, p.Amount)
		b = bincodec.AppendString(b, p.Currency)
		if d, ok := domain.ParseDate(p.ValueDate); ok {
			b = binary.AppendVarint(append(b, 'd'), d.Unix()/86400)
		} else {
			b = bincodec.AppendString(append(b, 's'), p.ValueDate)
		}
	}
	return b
}

// postingsRecord is an event's postings as decodePostings reads them.
type postingsRecord struct {
	doc      string
	booked   time.Time
	postings []domain.Posting
}

func decodePostings(b []byte) (postingsRecord, error) {
	r := bincodec.NewReader(b)
	var out postingsRecord
	out.doc = r.String()
	sec, nsec := r.Varint(), r.Uvarint()
	out.booked = time.Unix(sec, int64(nsec)).UTC()
	n := r.Uvarint()
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		p := domain.Posting{Account: r.String(), Side: domain.Credit}
		if r.Byte() == sideDebit {
			p.Side = domain.Debit
		}
		p.Amount, p.Currency = r.Varint(), r.String()
		if r.Byte() == 'd' {
			p.ValueDate = domain.DateOnly(time.Unix(r.Varint()*86400, 0))
		} else {
			p.ValueDate = r.String()
		}
		out.postings = append(out.postings, p)
	}
	if err := r.Done(); err != nil {
		return postingsRecord{}, fmt.Errorf("projections: a posting record is malformed: %w", err)
	}
	return out, nil
}

// PostingItem is a posting as GET /v1/claims/{claimNumber}/postings
// serves it; the amount is in the currency's units, written exactly.
type PostingItem struct {
	Position       uint64 `json:"position"`
	DocumentNumber string `json:"documentNumber"`
	ValueDate      string `json:"valueDate"`
	BookedAt       string `json:"bookedAt"`
	Account        string `json:"account"`
	Side           string `json:"side"`
	Amount         Exact  `json:"amount"`
	Currency       string `json:"currency"`
}

// ClaimPostings returns a creditor's claim's postings in log order; found is
// false when the creditor has no such claim.
func (v *Views) ClaimPostings(creditor, claim string) (items []PostingItem, found bool, err error) {
	id, found, err := v.ClaimPlacement(creditor, claim)
	if err != nil || !found {
		return nil, found, err
	}
	prefix := key(v.generation(), tPosting).id(id)
	items = []PostingItem{}
	err = v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		if len(k) != len(prefix)+8 {
			return false, fmt.Errorf("projections: a posting key of placement %s is malformed", id)
		}
		r, err := decodePostings(val)
		if err != nil {
			return false, err
		}
		position, booked := binary.BigEndian.Uint64(k[len(prefix):]), r.booked.Format(time.RFC3339Nano)
		for _, p := range r.postings {
			items = append(items, PostingItem{Position: position, DocumentNumber: r.doc, ValueDate: p.ValueDate,
				BookedAt: booked, Account: p.Account, Side: p.Side, Amount: Exact(domain.MajorAmount(p.Amount, p.Currency)),
				Currency: p.Currency})
		}
		return true, nil
	})
	return items, true, err
}

// TrialBalanceLine is one account's debits, credits and balance (debits −
// credits) in one currency, for one creditor.
type TrialBalanceLine struct {
	CreditorID string `json:"creditorId"`
	Account    string `json:"account"`
	Currency   string `json:"currency"`
	Debit      Exact  `json:"debit"`
	Credit     Exact  `json:"credit"`
	Balance    Exact  `json:"balance"`
}

// TrialBalance is every account's totals as of a date; its total debit
// equals its total credit in every currency.
type TrialBalance struct {
	AsOf     string             `json:"asOf"`
	Basis    string             `json:"basis"`
	Currency string             `json:"currency,omitempty"`
	Lines    []TrialBalanceLine `json:"accounts"`
	Totals   []TrialBalanceSum  `json:"totals"`
}

// TrialBalanceSum is the total debit and credit of one currency.
type TrialBalanceSum struct {
	Currency    string `json:"currency"`
	TotalDebit  Exact  `json:"totalDebit"`
	TotalCredit Exact  `json:"totalCredit"`
}

// TrialBalance sums the postings of creditor ("" for every creditor) in
// currency ("" for every currency) dated on or before asOf (a YYYY-MM-DD
// date) by basis (BasisValue: the value date; BasisBooking: the booking
// day), per creditor, account and currency, in that order. It reads the
// trial-balance rows ('t': an aggregate per shared account, currency and
// day, a row per event for a claim's own accounts), not the postings: its
// cost grows with shared accounts × days plus the claims' postings.
func (v *Views) TrialBalance(creditor, currency, asOf, basis string) (TrialBalance, error) {
	bb, known := basisByte[basis]
	if !known {
		return TrialBalance{}, fmt.Errorf("projections: unknown basis %q", basis)
	}
	type acct struct{ creditor, account, currency string }
	type sums struct{ debit, credit int64 }
	totals := map[acct]*sums{}
	table := key(v.generation(), tTrial)
	prefixes := []keyBuf{table}
	if creditor != "" {
		prefixes = []keyBuf{table.str(creditor).b(bb)}
		if bb == 'v' { // and the booking basis's rows that count for it
			prefixes = append(prefixes, table.str(creditor).b('b'))
		}
	}
	var err error
	for _, prefix := range prefixes {
		err = v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
			tk, debit, credit, both, err := decodeTrialRow(k[len(key(nil, tTrial)):], val)
			if err != nil {
				return false, fmt.Errorf("projections: trial-balance row %x is malformed: %w", k, err)
			}
			counts := tk.basis == bb || (both && bb == 'v')
			if !counts || tk.date > asOf || (currency != "" && tk.currency != currency) {
				return true, nil
			}
			a := acct{tk.creditor, tk.account, tk.currency}
			if totals[a] == nil {
				totals[a] = &sums{}
			}
			totals[a].debit += debit
			totals[a].credit += credit
			return true, nil
		})
		if err != nil {
			break
		}
	}
	tb := TrialBalance{AsOf: asOf, Basis: basis, Currency: currency, Lines: []TrialBalanceLine{}, Totals: []TrialBalanceSum{}}
	keys := make([]acct, 0, len(totals))
	for a := range totals {
		keys = append(keys, a)
	}
	slices.SortFunc(keys, func(x, y acct) int {
		return strings.Compare(x.creditor+"\x00"+x.account+"\x00"+x.currency, y.creditor+"\x00"+y.account+"\x00"+y.currency)
	})
	byCurrency := map[string]*sums{}
	var currencies []string
	for _, a := range keys {
		s := totals[a]
		major := func(n int64) Exact { return Exact(domain.MajorAmount(n, a.currency)) }
		tb.Lines = append(tb.Lines, TrialBalanceLine{CreditorID: a.creditor, Account: a.account, Currency: a.currency,
			Debit: major(s.debit), Credit: major(s.credit), Balance: major(s.debit - s.credit)})
		if byCurrency[a.currency] == nil {
			byCurrency[a.currency] = &sums{}
			currencies = append(currencies, a.currency)
		}
		byCurrency[a.currency].debit += s.debit
		byCurrency[a.currency].credit += s.credit
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		tb.Totals = append(tb.Totals, TrialBalanceSum{Currency: c, TotalDebit: Exact(domain.MajorAmount(byCurrency[c].debit, c)),
			TotalCredit: Exact(domain.MajorAmount(byCurrency[c].credit, c))})
	}
	return tb, err
}

// decodeTrialRow reads a trial-balance row's key (without its generation
// and table) and value, of either kind (see addTrial); both says that a row
// of the booking basis counts for the value basis too.
func decodeTrialRow(k, val []byte) (tk trialKey, debit, credit int64, both bool, err error) {
	r := bincodec.NewReader(k)
	tk = trialKey{creditor: r.String(), basis: r.Byte(), date: r.String(), account: r.String(), currency: r.String()}
	switch {
	case r.Err() != nil:
		return tk, 0, 0, false, r.Err()
	case len(r.Rest()) == 0 && len(val) == 16: // an aggregate
		return tk, int64(binary.BigEndian.Uint64(val)), int64(binary.BigEndian.Uint64(val[8:])), false, nil
	case len(r.Rest()) == 8: // an event's row
		v := bincodec.NewReader(val)
		debit, credit = v.Varint(), v.Varint()
		if rest := v.Rest(); v.Err() == nil && len(rest) == 1 && rest[0] == rowBothBases && tk.basis == 'b' {
			return tk, debit, credit, true, nil
		}
		return tk, debit, credit, false, v.Done()
	}
	return tk, 0, 0, false, fmt.Errorf("a key of %d bytes after its currency, a value of %d", len(r.Rest()), len(val))
}

// WriteCSV writes the trial balance as CSV: a row per creditor, account and
// currency, then a TOTAL row per currency.
func (tb TrialBalance) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	str := func(e Exact) string { return decimal.Decimal(e).String() }
	_ = cw.Write([]string{"creditorId", "account", "currency", "debit", "credit", "balance"})
	for _, l := range tb.Lines {
		_ = cw.Write([]string{l.CreditorID, l.Account, l.Currency, str(l.Debit), str(l.Credit), str(l.Balance)})
	}
	for _, t := range tb.Totals {
		_ = cw.Write([]string{"", "TOTAL", t.Currency, str(t.TotalDebit), str(t.TotalCredit), "0"})
	}
	cw.Flush()
	return cw.Error()
}
