package projections

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// The placement state the views keep (table 'p') is stored in a compact
// binary form: a format byte, then every field of placementState in a fixed
// order, with nothing between them. Integers are varints (encoding/binary),
// strings and byte strings length-prefixed, uuids their 16 bytes, a slice
// its length plus one (0: nil, so nil and empty stay apart), a pointer a
// presence byte. A time is a tag (zero, UTC, fixed offset, nil) and its unix
// seconds and nanoseconds, with the offset when it has one. A money figure
// of the placement's currency is its integer of minor units at the
// currency's ISO 4217 scale when it is exactly that (the most it can be:
// an int64); otherwise its coefficient and exponent, or, when its
// coefficient does not fit an int64, its decimal string: nothing is lost.
// The fee rate and the outcome score are decimals (coefficient and exponent,
// or string). Every encoding depends only on the values (a decimal's
// representation does not matter: 1.5 and 1.50 encode alike), so equal
// states encode to equal bytes, as the JSON did.
//
// A state the views wrote before this form is JSON (its first byte '{'):
// decodeState still reads it, so views written by earlier code need no
// rebuild for it.

// The binary formats of a placement state: 1, the first; 2, the same
// followed by the claim's payment plans (a state of format 1 has none); 3
// (current), format 2 followed by where the placement is in the change
// index (placementState.Change, 16 bytes). A state that does not know that
// (decoded from an older form and not changed since) is written in format
// 2, and one of formats 1 and 2 decodes not knowing it.
const (
	stateFormat1 byte = 1
	stateFormat2 byte = 2
	stateFormat3 byte = 3
)

// Tags of a decimal.
const (
	decZero   byte = iota // zero (decodes to the zero Decimal)
	decMinor              // an integer of minor units at the currency's scale
	decCoeff              // coefficient and exponent
	decString             // its decimal string
	decNil                // a nil *decimal.Decimal
)

// Tags of a time.
const (
	timeZero   byte = iota // the zero time
	timeUTC                // seconds and nanoseconds, in UTC
	timeOffset             // seconds, nanoseconds and the offset east of UTC in seconds
	timeNil                // a nil *time.Time
)

// Tags of the state's hash.
const (
	hashEmpty byte = iota
	hashRaw        // 32 bytes, their lowercase hex the hash
	hashText       // any other string (a state's hash: no longer written, see stateDecoder.stateHash)
)

// errStateNumbers refuses a state that carries processed numbers: the views
// clear them before they keep a state (WriteIndex.Processed answers for
// them), and the stored form has no place for them.
var errStateNumbers = errors.New("projections: a placement state to store carries processed numbers")

// encodeState appends st's binary form to dst.
func encodeState(dst []byte, st *placementState) ([]byte, error) {
	p := &st.P
	if p.PaymentNumbers.Len() > 0 || p.WaiverNumbers.Len() > 0 {
		return nil, errStateNumbers
	}
	scale, known := domain.MinorUnits(p.Currency)
	e := stateEncoder{scale: scale, known: known}
	format := stateFormat2
	if st.ChangeKnown {
		format = stateFormat3
	}
	b := append(dst, format)
	b = e.uvarint(b, st.Revision) // first: WriteIndex reads it alone (stateRevision)
	b = e.uvarint(b, uint64(st.Opened))
	b = e.uvarint(b, st.NextSort)
	b = e.uvarint(b, uint64(st.Last))
	b = e.stateHash(b, st.Hash)
	b = e.placement(b, p)
	b = e.plans(b, p.Plans)
	if st.ChangeKnown {
		b = append(b, st.Change[:]...)
	}
	return b, nil
}

// decodeState reads a state encodeState wrote, or one the views wrote as
// JSON before it.
func decodeState(b []byte, st *placementState) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, st)
	}
	return decodeBinaryState(b, st)
}

// decodeBinaryState reads a state in one of the binary forms. Unlike
// decodeState it keeps nothing of st, so a state decoded into a local
// variable stays off the heap.
func decodeBinaryState(b []byte, st *placementState) error {
	if len(b) == 0 {
		return errors.New("projections: an empty placement state")
	}
	switch b[0] {
	case stateFormat1, stateFormat2, stateFormat3:
	default:
		return fmt.Errorf("projections: a placement state of unknown format 0x%02x", b[0])
	}
	d := stateDecoder{b: b, s: string(b), i: 1}
	*st = placementState{}
	st.Revision = d.uvarint()
	st.Opened = eventstore.Position(d.uvarint())
	st.NextSort = d.uvarint()
	st.Last = eventstore.Position(d.uvarint())
	st.Hash = d.stateHash()
	d.placement(&st.P)
	if b[0] >= stateFormat2 {
		st.P.Plans = d.plans()
	}
	if b[0] == stateFormat3 {
		switch {
		case d.err != nil:
		case len(b)-d.i < len(st.Change):
			d.fail("its change cut short")
		default:
			d.i += copy(st.Change[:], b[d.i:])
			st.ChangeKnown = true
		}
	}
	if d.err == nil && d.i != len(b) {
		d.fail("%d bytes after its end", len(b)-d.i)
	}
	return d.err
}

// stateRevision is the revision of a stored state, read without the rest.
func stateRevision(b []byte) (uint64, error) {
	if len(b) > 0 && (b[0] == stateFormat1 || b[0] == stateFormat2 || b[0] == stateFormat3) {
		d := stateDecoder{b: b, i: 1}
		r := d.uvarint()
		return r, d.err
	}
	var st struct {
		Revision uint64 `json:"revision"`
	}
	if len(b) == 0 || b[0] != '{' {
		return 0, decodeState(b, &placementState{})
	}
	err := json.Unmarshal(b, &st)
	return st.Revision, err
}

// stateEncoder appends a state's fields to the bytes each method is given
// and returns them (an append, like encoding/binary's); scale is the minor
// units of the placement's currency (known: it has some).
type stateEncoder struct {
	scale int32
	known bool
}

func (e stateEncoder) uvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func (e stateEncoder) varint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func (e stateEncoder) byte(b []byte, v byte) []byte      { return append(b, v) }
func (e stateEncoder) id(b []byte, v uuid.UUID) []byte   { return append(b, v[:]...) }

func (e stateEncoder) str(b []byte, s string) []byte {
	b = e.uvarint(b, uint64(len(s)))
	return append(b, s...)
}

// bytes writes a byte string, nil apart from empty.
func (e stateEncoder) bytes(b []byte, v []byte) []byte {
	if v == nil {
		return e.uvarint(b, 0)
	}
	b = e.uvarint(b, uint64(len(v))+1)
	return append(b, v...)
}

// count writes a slice's length, nil apart from empty.
func (e stateEncoder) count(b []byte, n int, isNil bool) []byte {
	if isNil {
		return e.uvarint(b, 0)
	}
	return e.uvarint(b, uint64(n)+1)
}

func (e stateEncoder) present(b []byte, yes bool) []byte {
	if yes {
		b = e.byte(b, 1)
	} else {
		b = e.byte(b, 0)
	}
	return b
}

func (e stateEncoder) hash(b []byte, h string) []byte {
	switch {
	case h == "":
		b = e.byte(b, hashEmpty)
	case len(h) == 64 && isLowerHex(h):
		b = e.byte(b, hashRaw)
		b, _ = hex.AppendDecode(b, []byte(h)) // lowercase hex of 64 digits: no error
	default:
		b = e.byte(b, hashText)
		b = e.str(b, h)
	}
	return b
}

func isLowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// stateHash writes a state's hash: raw, or empty for none.
func (e stateEncoder) stateHash(b []byte, h stateHash) []byte {
	if h.none() {
		return e.byte(b, hashEmpty)
	}
	return append(e.byte(b, hashRaw), h[:]...)
}

func (e stateEncoder) time(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return e.byte(b, timeZero)
	}
	_, offset := t.Zone()
	if offset == 0 {
		b = e.byte(b, timeUTC)
	} else {
		b = e.byte(b, timeOffset)
	}
	b = e.varint(b, t.Unix())
	b = e.uvarint(b, uint64(t.Nanosecond()))
	if offset != 0 {
		b = e.varint(b, int64(offset))
	}
	return b
}

func (e stateEncoder) timePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return e.byte(b, timeNil)
	}
	return e.time(b, *t)
}

// money writes an amount of the placement's currency.
func (e stateEncoder) money(b []byte, d decimal.Decimal) []byte { return e.decimal(b, d, e.known) }

// amount writes a figure of the placement's currency as money writes it
// (TestStateCodecAmountIsMoney), without building a Decimal when the
// figure is a whole number of minor units.
func (e stateEncoder) amount(b []byte, a domain.Amount) []byte {
	if a.IsZero() {
		return e.byte(b, decZero)
	}
	if m, exact := a.Minor(e.scale); e.known && exact {
		b = e.byte(b, decMinor)
		return e.varint(b, m)
	}
	return e.money(b, a.Decimal())
}

// amountPtr writes an optional figure as decimalPtr writes it as money.
func (e stateEncoder) amountPtr(b []byte, a *domain.Amount) []byte {
	switch {
	case a == nil:
		return e.byte(b, decNil)
	case e.known: // amount writes what money, and so decimal as money, writes
		return e.amount(b, *a)
	}
	return e.decimal(b, a.Decimal(), true)
}

// number writes a decimal that is not an amount (a rate, a score).
func (e stateEncoder) number(b []byte, d decimal.Decimal) []byte { return e.decimal(b, d, false) }

func (e stateEncoder) decimal(b []byte, d decimal.Decimal, asMoney bool) []byte {
	if d.IsZero() {
		return e.byte(b, decZero)
	}
	c, exp, fits := normalized(d)
	switch {
	case !fits:
		b = e.byte(b, decString)
		b = e.str(b, d.String())
	case asMoney && exp+int64(e.scale) >= 0 && exp+int64(e.scale) <= 18 && fitsScaled(c, exp+int64(e.scale)):
		b = e.byte(b, decMinor)
		b = e.varint(b, c*pow10[exp+int64(e.scale)])
	default:
		b = e.byte(b, decCoeff)
		b = e.varint(b, c)
		b = e.varint(b, exp)
	}
	return b
}

// decimalPtr writes an optional decimal.
func (e stateEncoder) decimalPtr(b []byte, d *decimal.Decimal, asMoney bool) []byte {
	if d == nil {
		return e.byte(b, decNil)
	}
	return e.decimal(b, *d, asMoney)
}

// pow10 are the powers of ten an int64 holds.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// fitsScaled reports whether c·10^k fits an int64 (0 ≤ k ≤ 18).
func fitsScaled(c, k int64) bool {
	return math.MinInt64/pow10[k] <= c && c <= math.MaxInt64/pow10[k]
}

// normalized is a non-zero d as c·10^exp with c not a multiple of 10 (the
// one such form of its value); fits is false when c does not fit an int64
// or exp an int32.
func normalized(d decimal.Decimal) (c, exp int64, fits bool) {
	if coef, fits := domain.Coefficient18(d); fits {
		c, exp = coef, int64(d.Exponent())
	} else {
		digits, x := canonicalDigits(d.String())
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		c, exp = v, x
	}
	for c%10 == 0 {
		c, exp = c/10, exp+1
	}
	return c, exp, exp >= math.MinInt32 && exp <= math.MaxInt32
}

// canonicalDigits splits a decimal's string (as Decimal.String writes it:
// no trailing zeros after a point) into its digits without trailing zeros
// and the exponent they are at.
func canonicalDigits(s string) (digits string, exp int64) {
	if whole, frac, found := strings.Cut(s, "."); found {
		return whole + frac, -int64(len(frac))
	}
	trimmed := strings.TrimRight(s, "0")
	return trimmed, int64(len(s) - len(trimmed))
}

// stateDecoder reads a state's fields from b (s is b as a string, which the
// decoded strings share: one allocation for them all). The first error
// sticks: every read after it returns a zero value.
type stateDecoder struct {
	b     []byte
	s     string
	i     int
	err   error
	scale int32
	known bool
}

func (d *stateDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("projections: a placement state: "+format, args...)
	}
}

func (d *stateDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("a bad varint at byte %d", d.i)
		return 0
	}
	d.i += n
	return v
}

func (d *stateDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("a bad varint at byte %d", d.i)
		return 0
	}
	d.i += n
	return v
}

// peek is the next byte, not read: 0xff (no tag) when there is none, which
// the read that follows reports.
func (d *stateDecoder) peek() byte {
	if d.err != nil || d.i >= len(d.b) {
		return 0xff
	}
	return d.b[d.i]
}

func (d *stateDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.i >= len(d.b) {
		d.fail("cut short")
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

// span is the next n bytes' range; n beyond what is left fails.
func (d *stateDecoder) span(n uint64) (from, to int) {
	if d.err != nil {
		return 0, 0
	}
	if n > uint64(len(d.b)-d.i) {
		d.fail("cut short")
		return 0, 0
	}
	from = d.i
	d.i += int(n)
	return from, d.i
}

func (d *stateDecoder) id() (v uuid.UUID) {
	from, to := d.span(16)
	copy(v[:], d.b[from:to])
	return v
}

func (d *stateDecoder) str() string {
	from, to := d.span(d.uvarint())
	return d.s[from:to]
}

func (d *stateDecoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	from, to := d.span(n - 1)
	if d.err != nil {
		return nil
	}
	v := make([]byte, to-from)
	copy(v, d.b[from:to])
	return v
}

// count reads a slice's length (nil: false); a length beyond the bytes
// left fails, so no input allocates more than its own size allows.
func (d *stateDecoder) count() (int, bool) {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return 0, false
	}
	if n-1 > uint64(len(d.b)-d.i) {
		d.fail("a count of %d beyond its bytes", n-1)
		return 0, false
	}
	return int(n - 1), true
}

func (d *stateDecoder) present() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("a bad presence byte at byte %d", d.i-1)
	return false
}

func (d *stateDecoder) hash() string {
	switch tag := d.byte(); tag {
	case hashEmpty:
		return ""
	case hashRaw:
		from, to := d.span(32)
		return hex.EncodeToString(d.b[from:to])
	case hashText:
		return d.str()
	default:
		d.fail("a hash of unknown tag %d", tag)
		return ""
	}
}

// stateHash reads what stateEncoder.stateHash wrote, or a hash as text.
func (d *stateDecoder) stateHash() (h stateHash) {
	switch tag := d.byte(); tag {
	case hashEmpty:
	case hashRaw:
		from, to := d.span(32)
		copy(h[:], d.b[from:to])
	case hashText:
		// Written by ledgers before 2026-12 for a hash that was not 64
		// lowercase hex digits, which no event's hash is: kept unknown,
		// as Snapshot then finds it.
		_ = h.UnmarshalText([]byte(d.str()))
	default:
		d.fail("a hash of unknown tag %d", tag)
	}
	return h
}

func (d *stateDecoder) time() time.Time {
	t, isNil := d.timeOrNil()
	if isNil {
		d.fail("a nil time where one is required")
	}
	return t
}

func (d *stateDecoder) timePtr() *time.Time {
	t, isNil := d.timeOrNil()
	if isNil || d.err != nil {
		return nil
	}
	return &t
}

func (d *stateDecoder) timeOrNil() (time.Time, bool) {
	switch tag := d.byte(); tag {
	case timeZero:
		return time.Time{}, false
	case timeNil:
		return time.Time{}, true
	case timeUTC, timeOffset:
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= 1e9 {
			d.fail("a time with %d nanoseconds", nsec)
		}
		t := time.Unix(sec, int64(nsec)).UTC()
		if tag == timeOffset {
			offset := d.varint()
			if offset < -1<<20 || offset > 1<<20 {
				d.fail("a time offset of %d s", offset)
				return time.Time{}, false
			}
			t = t.In(time.FixedZone("", int(offset)))
		}
		return t, false
	default:
		d.fail("a time of unknown tag %d", tag)
		return time.Time{}, false
	}
}

func (d *stateDecoder) money() decimal.Decimal { return d.decimal(true) }

// amount reads what money reads, as an Amount, without building a Decimal
// for a figure in minor units.
func (d *stateDecoder) amount() domain.Amount {
	switch d.peek() {
	case decZero:
		d.byte()
		if d.known {
			return domain.AmountAt(0, d.scale)
		}
		return domain.Amount{}
	case decMinor:
		d.byte()
		if !d.known {
			d.fail("minor units of no currency's scale")
		}
		return domain.AmountAt(d.varint(), d.scale)
	}
	return domain.AmountOf(d.money())
}

// amountPtr reads what amountPtr writes (what decimalPtr writes as money).
func (d *stateDecoder) amountPtr() *domain.Amount {
	if d.peek() == decNil {
		d.byte()
		return nil
	}
	a := d.amount() // which reads what decimal reads as money without a known scale
	if d.err != nil {
		return nil
	}
	return &a
}

func (d *stateDecoder) number() decimal.Decimal { return d.decimal(false) }

func (d *stateDecoder) decimal(asMoney bool) decimal.Decimal {
	v, isNil := d.decimalOrNil(asMoney)
	if isNil {
		d.fail("a nil decimal where one is required")
	}
	return v
}

func (d *stateDecoder) decimalPtr(asMoney bool) *decimal.Decimal {
	v, isNil := d.decimalOrNil(asMoney)
	if isNil || d.err != nil {
		return nil
	}
	return &v
}

func (d *stateDecoder) decimalOrNil(asMoney bool) (decimal.Decimal, bool) {
	switch tag := d.byte(); tag {
	case decZero:
		if asMoney && d.known { // at the currency's scale, as the amounts it meets are
			return domain.ZeroAt(d.scale), false
		}
		return decimal.Decimal{}, false
	case decNil:
		return decimal.Decimal{}, true
	case decMinor:
		if !asMoney || !d.known {
			d.fail("minor units of no currency's scale")
		}
		return decimal.New(d.varint(), -d.scale), false
	case decCoeff:
		c, exp := d.varint(), d.varint()
		if exp < math.MinInt32 || exp > math.MaxInt32 {
			d.fail("a decimal exponent of %d", exp)
			return decimal.Decimal{}, false
		}
		return decimal.New(c, int32(exp)), false
	case decString:
		v, err := decimal.NewFromString(d.str())
		if err != nil && d.err == nil {
			d.fail("a decimal: %v", err)
		}
		return v, false
	default:
		d.fail("a decimal of unknown tag %d", tag)
		return decimal.Decimal{}, false
	}
}

// placement writes a placement's fields but its processed numbers.
func (e stateEncoder) placement(b []byte, p *domain.Placement) []byte {
	b = e.id(b, p.ID)
	b = e.str(b, p.CreditorID)
	b = e.str(b, p.ClaimNumber)
	b = e.str(b, p.CustomerNumber)
	b = e.str(b, p.Currency)
	b = e.number(b, p.FeeRate)
	b = e.str(b, string(p.Status))
	b = e.time(b, p.OpenedAt)
	b = e.count(b, len(p.Invoices), p.Invoices == nil)
	for i := range p.Invoices {
		b = e.invoice(b, &p.Invoices[i])
	}
	for _, m := range []domain.Amount{p.Original, p.Waived, p.Recovered, p.Fee, p.AgencyPaid, p.WrittenOff} {
		b = e.amount(b, m)
	}
	b = e.timePtr(b, p.ResolvedAt)
	b = e.decimalPtr(b, p.OutcomeScore, false)
	b = e.count(b, len(p.Sequences), p.Sequences == nil)
	for _, s := range p.Sequences {
		b = e.id(b, s.ID)
		b = e.str(b, s.Status)
		b = e.timePtr(b, s.NextSendAt)
	}
	b = e.count(b, len(p.Calls), p.Calls == nil)
	for _, c := range p.Calls {
		b = e.id(b, c.ID)
		b = e.str(b, c.Status)
		b = e.time(b, c.ScheduledAt)
		b = e.str(b, c.Outcome)
	}
	b = e.varint(b, int64(p.Documents))
	b = e.pause(b, p.Pause)
	b = e.pausedSequences(b, p.PaidPaused)
	b = e.sealed(b, p.PersonalData)
	b = e.charges(b, p.Charges)
	b = e.books(b, &p.Books)
	return e.uvarint(b, p.Version)
}

func (e stateEncoder) invoice(b []byte, inv *domain.InvoiceState) []byte {
	b = e.str(b, inv.InvoiceNumber)
	b = e.str(b, inv.ContractNumber)
	b = e.amount(b, inv.Amount)
	b = e.str(b, inv.DueDate)
	b = e.str(b, inv.InvoiceDate)
	b = e.amountPtr(b, inv.InvoicedAmount)
	b = e.amount(b, inv.Open)
	b = e.amount(b, inv.Waived)
	b = e.amount(b, inv.Paid)
	return e.amount(b, inv.WrittenOff)
}

func (e stateEncoder) pause(b []byte, p *domain.PlacementPaused) []byte {
	b = e.present(b, p != nil)
	if p == nil {
		return b
	}
	b = e.str(b, p.Reason)
	b = e.time(b, p.PausedAt)
	b = e.timePtr(b, p.ResumeAt)
	b = e.pausedSequences(b, p.Sequences)
	b = e.varint(b, int64(p.SequencesPaused))
	return e.varint(b, int64(p.CallsCancelled))
}

func (e stateEncoder) pausedSequences(b []byte, s []domain.PausedSequence) []byte {
	b = e.count(b, len(s), s == nil)
	for _, ps := range s {
		b = e.id(b, ps.SequenceID)
		b = e.time(b, ps.NextSendAt)
	}
	return b
}

func (e stateEncoder) sealed(b []byte, s *domain.SealedData) []byte {
	b = e.present(b, s != nil)
	if s == nil {
		return b
	}
	b = e.str(b, s.KeyID)
	b = e.bytes(b, s.Nonce)
	b = e.bytes(b, s.Ciphertext)
	return e.str(b, s.Context)
}

func (e stateEncoder) charges(b []byte, book *domain.ChargeBook) []byte {
	b = e.present(b, book != nil)
	if book == nil {
		return b
	}
	b = e.count(b, len(book.Charges), book.Charges == nil)
	for _, c := range book.Charges {
		b = e.str(b, c.Type)
		b = e.str(b, c.Number)
		b = e.money(b, c.Amount)
		b = e.str(b, c.Date)
		b = e.str(b, c.Description)
		b = e.uvarint(b, c.Revision)
	}
	for _, s := range []*domain.Split{&book.Paid, &book.Recalled, &book.WrittenOff} {
		b = e.money(b, s.Costs)
		b = e.money(b, s.Interests)
		b = e.money(b, s.Overpaid)
	}
	return b
}

func (e stateEncoder) books(b []byte, books *domain.Books) []byte {
	b = e.count(b, len(books.Invoices), books.Invoices == nil)
	for i := range books.Invoices {
		b = e.receivable(b, &books.Invoices[i])
	}
	b = e.receivable(b, &books.Costs)
	b = e.receivable(b, &books.Interests)
	for _, v := range []int64{books.Overpayment, books.Placed, books.Collected, books.AgencyPayable, books.Waived, books.Recalled, books.WrittenOff,
		books.Fees, books.AgencyFees} {
		b = e.varint(b, v)
	}
	return b
}

func (e stateEncoder) receivable(b []byte, r *domain.Receivable) []byte {
	for _, v := range []int64{r.Placed, r.Paid, r.Waived, r.Recalled, r.WrittenOff} {
		b = e.varint(b, v)
	}
	return b
}

// placement reads what stateEncoder.placement wrote.
func (d *stateDecoder) placement(p *domain.Placement) {
	p.ID = d.id()
	p.CreditorID = d.str()
	p.ClaimNumber = d.str()
	p.CustomerNumber = d.str()
	p.Currency = d.str()
	d.scale, d.known = domain.MinorUnits(p.Currency)
	p.FeeRate = d.number()
	p.Status = domain.Status(d.str())
	p.OpenedAt = d.time()
	if n, ok := d.count(); ok {
		p.Invoices = make([]domain.InvoiceState, n)
		for i := range p.Invoices {
			d.invoice(&p.Invoices[i])
		}
	}
	for _, m := range []*domain.Amount{&p.Original, &p.Waived, &p.Recovered, &p.Fee, &p.AgencyPaid, &p.WrittenOff} {
		*m = d.amount()
	}
	p.ResolvedAt = d.timePtr()
	p.OutcomeScore = d.decimalPtr(false)
	if n, ok := d.count(); ok {
		p.Sequences = make([]domain.SequenceState, n)
		for i := range p.Sequences {
			s := &p.Sequences[i]
			s.ID, s.Status, s.NextSendAt = d.id(), d.str(), d.timePtr()
		}
	}
	if n, ok := d.count(); ok {
		p.Calls = make([]domain.CallState, n)
		for i := range p.Calls {
			c := &p.Calls[i]
			c.ID, c.Status, c.ScheduledAt, c.Outcome = d.id(), d.str(), d.time(), d.str()
		}
	}
	p.Documents = d.int()
	p.Pause = d.pause()
	p.PaidPaused = d.pausedSequences()
	p.PersonalData = d.sealed()
	p.Charges = d.charges()
	d.books(&p.Books)
	p.Version = d.uvarint()
}

// int reads a varint that must fit an int.
func (d *stateDecoder) int() int {
	v := d.varint()
	if v < math.MinInt || v > math.MaxInt {
		d.fail("an integer of %d", v)
		return 0
	}
	return int(v)
}

func (d *stateDecoder) invoice(inv *domain.InvoiceState) {
	inv.InvoiceNumber = d.str()
	inv.ContractNumber = d.str()
	inv.Amount = d.amount()
	inv.DueDate = d.str()
	inv.InvoiceDate = d.str()
	inv.InvoicedAmount = d.amountPtr()
	inv.Open = d.amount()
	inv.Waived = d.amount()
	inv.Paid = d.amount()
	inv.WrittenOff = d.amount()
}

func (d *stateDecoder) pause() *domain.PlacementPaused {
	if !d.present() {
		return nil
	}
	p := &domain.PlacementPaused{Reason: d.str(), PausedAt: d.time(), ResumeAt: d.timePtr(), Sequences: d.pausedSequences()}
	p.SequencesPaused, p.CallsCancelled = d.int(), d.int()
	if d.err != nil {
		return nil
	}
	return p
}

func (d *stateDecoder) pausedSequences() []domain.PausedSequence {
	n, ok := d.count()
	if !ok {
		return nil
	}
	s := make([]domain.PausedSequence, n)
	for i := range s {
		s[i].SequenceID, s[i].NextSendAt = d.id(), d.time()
	}
	return s
}

func (d *stateDecoder) sealed() *domain.SealedData {
	if !d.present() {
		return nil
	}
	s := &domain.SealedData{KeyID: d.str(), Nonce: d.bytes(), Ciphertext: d.bytes(), Context: d.str()}
	if d.err != nil {
		return nil
	}
	return s
}

func (d *stateDecoder) charges() *domain.ChargeBook {
	if !d.present() {
		return nil
	}
	b := &domain.ChargeBook{}
	if n, ok := d.count(); ok {
		b.Charges = make([]domain.ChargeState, n)
		for i := range b.Charges {
			c := &b.Charges[i]
			c.Type, c.Number, c.Amount, c.Date, c.Description, c.Revision = d.str(), d.str(), d.money(), d.str(), d.str(), d.uvarint()
		}
	}
	for _, s := range []*domain.Split{&b.Paid, &b.Recalled, &b.WrittenOff} {
		s.Costs, s.Interests, s.Overpaid = d.money(), d.money(), d.money()
	}
	if d.err != nil {
		return nil
	}
	return b
}

func (d *stateDecoder) books(b *domain.Books) {
	if n, ok := d.count(); ok {
		b.Invoices = make([]domain.Receivable, n)
		for i := range b.Invoices {
			d.receivable(&b.Invoices[i])
		}
	}
	d.receivable(&b.Costs)
	d.receivable(&b.Interests)
	for _, v := range []*int64{&b.Overpayment, &b.Placed, &b.Collected, &b.AgencyPayable, &b.Waived, &b.Recalled, &b.WrittenOff, &b.Fees, &b.AgencyFees} {
		*v = d.varint()
	}
}

func (d *stateDecoder) receivable(r *domain.Receivable) {
	for _, v := range []*int64{&r.Placed, &r.Paid, &r.Waived, &r.Recalled, &r.WrittenOff} {
		*v = d.varint()
	}
}

// plans writes a claim's payment plans.
func (e stateEncoder) plans(b []byte, plans []domain.PlanState) []byte {
	b = e.count(b, len(plans), plans == nil)
	for i := range plans {
		pl := &plans[i]
		b = e.str(b, pl.PlanNumber)
		b = e.count(b, len(pl.Installments), pl.Installments == nil)
		for _, in := range pl.Installments {
			b = e.str(b, in.DueDate)
			b = e.money(b, in.Amount)
		}
		b = e.str(b, pl.StartDate)
		b = e.varint(b, int64(pl.GraceDays))
		b = e.money(b, pl.Total)
		b = e.str(b, pl.Currency)
		b = e.time(b, pl.AgreedAt)
		b = e.str(b, pl.Status)
		b = e.money(b, pl.Paid)
		b = e.uvarint(b, pl.Revision)
		b = e.uvarint(b, pl.EndRevision)
	}
	return b
}

// plans reads what stateEncoder.plans wrote.
func (d *stateDecoder) plans() []domain.PlanState {
	n, present := d.count()
	if !present || d.err != nil {
		return nil
	}
	out := make([]domain.PlanState, n)
	for i := range out {
		pl := &out[i]
		pl.PlanNumber = d.str()
		if m, present := d.count(); present && d.err == nil {
			pl.Installments = make([]domain.Installment, m)
			for j := range pl.Installments {
				pl.Installments[j] = domain.Installment{DueDate: d.str(), Amount: d.money()}
			}
		}
		pl.StartDate = d.str()
		pl.GraceDays = d.int()
		pl.Total = d.money()
		pl.Currency = d.str()
		pl.AgreedAt = d.time()
		pl.Status = d.str()
		pl.Paid = d.money()
		pl.Revision = d.uvarint()
		pl.EndRevision = d.uvarint()
	}
	return out
}

// AppendPlacement appends a placement's state in the views' binary form
// (encodeState's, without the views' own fields) for readers that keep
// states of their own out of memory: verify's books. Its processed payment
// and credit waiver numbers are left out, as the views store them apart.
func AppendPlacement(dst []byte, p domain.Placement) ([]byte, error) {
	p.PaymentNumbers, p.WaiverNumbers = domain.Numbers{}, domain.Numbers{}
	return encodeState(dst, &placementState{P: p})
}

// DecodePlacement reads what AppendPlacement wrote.
func DecodePlacement(b []byte, p *domain.Placement) error {
	if len(b) > 0 && b[0] == '{' {
		st := new(placementState)
		if err := json.Unmarshal(b, st); err != nil {
			return err
		}
		*p = st.P
		return nil
	}
	var st placementState // on the stack: verify decodes a state per event
	if err := decodeBinaryState(b, &st); err != nil {
		return err
	}
	*p = st.P
	return nil
}
