package domain

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain/iso4217"
)

// eventGen makes random events of the types with a fast decoder, with
// every field sometimes set and sometimes not, odd text and figures among
// them.
type eventGen struct{ rng *rand.Rand }

var genTexts = []string{"", "I1", "C-7", "LOAD-7-00081014-AD001", "Zahlung für Mai", "東京", "a<b>&c", `quote "x"`,
	"back\\slash", "tab\there", "line\nbreak", "\u2028", "naïve café", "PRINCIPAL_CLAIM", "2026-12-03"}

func (g eventGen) text() string {
	if g.rng.IntN(3) == 0 {
		return genTexts[g.rng.IntN(len(genTexts))]
	}
	return fmt.Sprintf("N-%d", g.rng.IntN(1_000_000))
}

func (g eventGen) maybe() bool { return g.rng.IntN(2) == 0 }

func (g eventGen) amount() decimal.Decimal {
	d := decimal.New(g.rng.Int64N(2_000_000_000)-1_000_000_000, -int32(g.rng.IntN(5)))
	if g.rng.IntN(10) == 0 {
		d = decimal.RequireFromString("123456789012345678901234567890.123456789") // past int64
	}
	return d
}

func (g eventGen) time() time.Time {
	t := time.Unix(1_700_000_000+g.rng.Int64N(100_000_000), 0)
	if g.maybe() {
		t = t.Add(time.Duration(g.rng.Int64N(int64(time.Second))))
	}
	if g.maybe() {
		t = t.In(time.FixedZone("", 3600*(g.rng.IntN(25)-12)))
	}
	return t.UTC()
}

func genSlice[T any](g eventGen, item func() T) []T {
	switch g.rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return []T{}
	}
	out := make([]T, 1+g.rng.IntN(3))
	for i := range out {
		out[i] = item()
	}
	return out
}

func (g eventGen) event(which int) Event {
	switch which % 4 {
	case 0:
		return AccountingDocumentIssued{DocumentNumber: g.text(), Type: g.text(), Date: g.text(), Amount: AmountOf(g.amount()), Currency: g.text(),
			LineItems: genSlice(g, func() LineItem {
				l := LineItem{InvoiceNumber: g.text(), ContractNumber: g.text(), Amount: AmountOf(g.amount())}
				if g.maybe() {
					l.AllocateTo, l.CreditWaiverNumber = g.text(), g.text()
				}
				return l
			}),
			OriginalType: g.text(), OriginalNumber: g.text(), PaymentNumber: g.text()}
	case 1:
		e := PaymentReceived{PaymentNumber: g.text(), Amount: AmountOf(g.amount()), Currency: g.text(), RecoveredAmount: AmountOf(g.amount()), FeeAmount: AmountOf(g.amount()),
			ReceivedAt: g.time(), Allocations: genSlice(g, func() Allocation {
				return Allocation{InvoiceNumber: g.text(), ContractNumber: g.text(), Amount: AmountOf(g.amount())}
			})}
		if g.maybe() {
			e.InvoiceNumber, e.Date, e.Description, e.AllocateTo, e.ReceivedBy = g.text(), g.text(), g.text(), g.text(), g.text()
		}
		if g.maybe() {
			e.Split = &Split{Costs: g.amount(), Interests: g.amount(), Overpaid: g.amount()}
		}
		return e
	case 2:
		e := PlacementOpened{PlacementID: uuid.New(), CreditorID: g.text(), ClaimNumber: g.text(), CustomerNumber: g.text(), Currency: g.text(),
			FeeRate: g.amount(), OpenedAt: g.time(), Invoices: genSlice(g, func() Invoice {
				n := Invoice{InvoiceNumber: g.text(), ContractNumber: g.text(), Amount: AmountOf(g.amount()), DueDate: g.text()}
				if g.maybe() {
					a := AmountOf(g.amount())
					n.InvoiceDate, n.InvoicedAmount = g.text(), &a
				}
				return n
			}),
			Charges: genSlice(g, func() Charge {
				return Charge{Type: g.text(), Number: g.text(), Amount: g.amount(), Date: g.text(), Description: g.text()}
			})}
		if g.maybe() {
			e.PersonalData = &SealedData{KeyID: g.text(), Context: g.text(), Nonce: genSlice(g, func() byte { return byte(g.rng.IntN(256)) }),
				Ciphertext: genSlice(g, func() byte { return byte(g.rng.IntN(256)) })}
		}
		return e
	default:
		return CreditWaiverIssued{CreditWaiverNumber: g.text(), InvoiceNumber: g.text(), ContractNumber: g.text(), Date: g.text(),
			Description: g.text(), Amount: AmountOf(g.amount()), Currency: g.text()}
	}
}

// TestFastDecodersAgreeWithEncodingJSON: every event of a fast type that
// EncodeEvent writes without escapes is decoded by the fast path, to the
// very value encoding/json decodes; those with escapes go to encoding/json.
func TestFastDecodersAgreeWithEncodingJSON(t *testing.T) {
	g := eventGen{rand.New(rand.NewPCG(7, 22))} // fixed: a failure replays
	fast := 0
	const runs = 4000
	for i := range runs {
		typ, b, err := EncodeEvent(g.event(i))
		require.NoError(t, err)
		want, err := registry[typ](b)
		require.NoError(t, err)
		got, ok := decodeFast(typ, b)
		if bytes.IndexByte(b, '\\') >= 0 {
			require.False(t, ok, "%s: the fast path took an escape", b)
		} else {
			require.True(t, ok, "%s: the fast path refused what EncodeEvent wrote", b)
			fast++
		}
		if ok {
			require.True(t, reflect.DeepEqual(want, got), "%s:\nencoding/json %#v\nfast path     %#v", b, want, got)
		}
		viaAPI, err := DecodeEvent(typ, b)
		require.NoError(t, err)
		require.True(t, reflect.DeepEqual(want, viaAPI), "%s: DecodeEvent differs from encoding/json", b)
	}
	require.Greater(t, fast, runs/4, "a good part of the events are written without escapes")
}

// fastSeeds are forms the fast path must refuse or decode as encoding/json
// does: other cases of keys, repeats, nulls, numbers, empty and bad values.
var fastSeeds = []struct {
	typ  string
	data string
}{
	{"PaymentReceived", `{"paymentNumber":"P-7-1","amount":"1","currency":"EUR","allocations":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"1"}],"recoveredAmount":"1","feeAmount":"0.2","receivedAt":"2026-12-03T07:40:03.976950147Z"}`},
	{"PaymentReceived", `{"amount":"1","amount":"2"}`},
	{"PaymentReceived", `{"Amount":"1"}`},
	{"PaymentReceived", `{"amount":1}`},
	{"PaymentReceived", `{"amount":null}`},
	{"PaymentReceived", `{"amount":""}`},
	{"PaymentReceived", `{"amount":"1e3"}`},
	{"PaymentReceived", `{"amount":" 1"}`},
	{"PaymentReceived", `{"allocations":[]}`},
	{"PaymentReceived", `{"allocations":null}`},
	{"PaymentReceived", `{"allocations":[null]}`},
	{"PaymentReceived", `{"allocations":{}}`},
	{"PaymentReceived", `{"split":null}`},
	{"PaymentReceived", `{"split":{}}`},
	{"PaymentReceived", `{"split":{"costs":"1","costs":"1"}}`},
	{"PaymentReceived", `{"receivedAt":"2026-13-01T00:00:00Z"}`},
	{"PaymentReceived", `{"receivedAt":"2026-12-01 00:00:00Z"}`},
	{"PaymentReceived", `{"receivedAt":null}`},
	{"PaymentReceived", `{"currency":null}`},
	{"PaymentReceived", `{"other":"x"}`},
	{"PaymentReceived", `{"description":"a\u00e9"}`},
	{"PaymentReceived", `{"description":"é"}`},
	{"PaymentReceived", `{} `},
	{"PaymentReceived", `{},`},
	{"PaymentReceived", `{"amount":"1",}`},
	{"PaymentReceived", `[]`},
	{"PaymentReceived", `null`},
	{"AccountingDocumentIssued", `{"documentNumber":"D","type":"DIRECT_PAYMENT","date":"2026-12-03","amount":"-1","currency":"EUR","lineItems":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"-1"}],"paymentNumber":"P-7-1"}`},
	{"AccountingDocumentIssued", `{"lineItems":[{"invoiceNumber":"I1","InvoiceNumber":"I2"}]}`},
	{"PlacementOpened", `{"placementId":"d5336f5c-1cfa-4bcf-9302-a8e164586cb8","creditorId":"load","claimNumber":"L","customerNumber":"K","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"100","dueDate":"2024-05-01","invoicedAmount":"120"}],"openedAt":"2026-12-03T07:39:54.228613261Z"}`},
	{"PlacementOpened", `{"placementId":"not-a-uuid"}`},
	{"PlacementOpened", `{"placementId":"d5336f5c1cfa4bcf9302a8e164586cb8"}`},
	{"PlacementOpened", `{"invoices":[{"invoicedAmount":null}]}`},
	{"PlacementOpened", `{"personalData":{"keyId":"k","nonce":"AAEC","ciphertext":"","context":"c"}}`},
	{"PlacementOpened", `{"personalData":{"nonce":"AAE"}}`},
	{"PlacementOpened", `{"personalData":{"nonce":"AA-_"}}`},
	{"PlacementOpened", `{"personalData":null,"charges":null}`},
	{"CreditWaiverIssued", `{"creditWaiverNumber":"W","invoiceNumber":"I1","contractNumber":"C1","date":"2026-12-03","description":"d","amount":"5","currency":"EUR"}`},
}

// FuzzDecodeEventFast: what the fast path decodes, encoding/json decodes
// to the same value without an error (once DecodeEvent has written its
// amounts at the currency's scale, which changes nothing it encodes).
func FuzzDecodeEventFast(f *testing.F) {
	types := []string{"AccountingDocumentIssued", "PaymentReceived", "PlacementOpened", "CreditWaiverIssued"}
	index := map[string]uint8{}
	for i, typ := range types {
		index[typ] = uint8(i)
	}
	for _, s := range fastSeeds {
		f.Add(index[s.typ], []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := types[int(which)%len(types)]
		got, ok := decodeFast(typ, data)
		asDecoded, err := registry[typ](data)
		if !ok {
			return // encoding/json decides
		}
		if err != nil {
			t.Fatalf("%s %q: the fast path decoded it, encoding/json says %v", typ, data, err)
		}
		// DecodeEvent writes encoding/json's amounts at the currency's
		// scale, as the fast path does; that changes no amount's String,
		// so the two encode to the same JSON.
		want := atCurrencyScale(asDecoded)
		_, a, _ := EncodeEvent(asDecoded)
		if _, b, _ := EncodeEvent(want); string(a) != string(b) {
			t.Fatalf("%s %q: at the currency's scale it encodes as\n%s\nnot\n%s", typ, data, b, a)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s %q:\nencoding/json %#v\nfast path     %#v", typ, data, want, got)
		}
	})
}

// TestFastPathRefusesWhatItDoesNotTake pins a few of the seeds' verdicts,
// so that the fast path cannot pass the fuzz test by refusing everything.
func TestFastPathRefusesWhatItDoesNotTake(t *testing.T) {
	for _, c := range []struct {
		typ, data string
		ok        bool
	}{
		{"PaymentReceived", firstSeed("PaymentReceived"), true},
		{"AccountingDocumentIssued", firstSeed("AccountingDocumentIssued"), true},
		{"PlacementOpened", firstSeed("PlacementOpened"), true},
		{"CreditWaiverIssued", firstSeed("CreditWaiverIssued"), true},
		{"PaymentReceived", `{"allocations":[]}`, true},
		{"PaymentReceived", `{"split":null}`, true},
		{"PaymentReceived", `{"amount":"1","amount":"2"}`, false},
		{"PaymentReceived", `{"Amount":"1"}`, false},
		{"PaymentReceived", `{"amount":1}`, false},
		{"PaymentReceived", `{"amount":null}`, false},
		{"PaymentReceived", `{"other":"x"}`, false},
		{"PaymentReceived", `{"description":"a\u00e9"}`, false},
		{"PaymentReceived", `{} `, false}, // whitespace, which the ledger does not write
		{"PaymentReceived", "{\n}", false},
		{"PaymentReceived", `{"allocations":[{"amount":"1"},{"amount":"2"}]}`, true},
		{"PaymentReceived", `{"split":{"costs":"1","interests":"2","overpaid":"0"}}`, true},
		{"PaymentReceived", `{"allocations":[{"amount":"1"}}`, false},
		{"PaymentReceived", `{"allocations":[{"amount":"1"},]}`, false},
		{"PaymentReceived", `{"allocations":[{"amount":"1"}]]}`, false},
		{"PaymentReceived", `{"allocations":[null]}`, false},
		{"PaymentReceived", `{"allocations":{"amount":"1"}}`, false},
		{"PaymentReceived", `{"split":["1"]}`, false},
		{"PaymentReceived", `{"amount":"1",}`, false},
		{"PaymentReceived", `{"amount":"1"}}`, false},
		{"PaymentReceived", `{"amount":"1"}x`, false},
		{"PaymentReceived", `{"amount":"1"`, false},
		{"PaymentReceived", `{"amount":"1" }`, false},
		{"PaymentReceived", `{"amount":nul}`, false},
		{"PaymentReceived", `{"amount":true}`, false},
		{"PaymentReceived", `{"amount""1"}`, false},
		{"PlacementRecalled", `{}`, false}, // no fast decoder
	} {
		_, ok := decodeFast(c.typ, []byte(c.data))
		require.Equal(t, c.ok, ok, "%s %s", c.typ, c.data)
	}
}

func firstSeed(typ string) string {
	for _, s := range fastSeeds {
		if s.typ == typ {
			return s.data
		}
	}
	panic("no seed of " + typ)
}

// BenchmarkDecodeEvent: a payment and a document as the ledger writes them,
// by the fast path and by encoding/json.
func BenchmarkDecodeEvent(b *testing.B) {
	for _, typ := range []string{"PaymentReceived", "AccountingDocumentIssued"} {
		data := []byte(firstSeed(typ))
		b.Run(typ+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEvent(typ, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(typ+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := registry[typ](data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A document's type, currency and today's date are decoded as the strings
// the ledger shares, not as copies; anything else is copied as before.
func TestFastDecodeSharesCodesAndToday(t *testing.T) {
	today := DateOnly(time.Now())
	_, data, err := EncodeEvent(AccountingDocumentIssued{DocumentNumber: "C-AD001", Type: DocDirectPayment, Date: today,
		Amount: AmountOf(decimal.New(-500, -2)), Currency: "EUR", LineItems: []LineItem{{InvoiceNumber: "I", ContractNumber: "K",
			Amount: AmountOf(decimal.New(-500, -2)), AllocateTo: AllocateCosts}}})
	require.NoError(t, err)
	e, err := DecodeEvent(TypeAccountingDocumentIssued, data)
	require.NoError(t, err)
	doc := e.(AccountingDocumentIssued)
	same := func(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }
	require.True(t, same(DocDirectPayment, doc.Type))
	require.True(t, same(AllocateCosts, doc.LineItems[0].AllocateTo))
	require.True(t, same(today, doc.Date))
	eur, _ := iso4217.Code([]byte("EUR"))
	require.True(t, same(eur, doc.Currency))
	require.Equal(t, "C-AD001", doc.DocumentNumber)

	_, data, err = EncodeEvent(AccountingDocumentIssued{Type: "NEW_KIND", Date: "1999-01-02", Currency: "ZZZ"})
	require.NoError(t, err)
	e, err = DecodeEvent(TypeAccountingDocumentIssued, data)
	require.NoError(t, err)
	require.Equal(t, AccountingDocumentIssued{Type: "NEW_KIND", Date: "1999-01-02", Currency: "ZZZ", Amount: e.(AccountingDocumentIssued).Amount}, e)
}
