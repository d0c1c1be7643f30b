package domain_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestNumbersArePersistent adds numbers one by one past the few a slice
// keeps (into the persistent map) and replaces some: every earlier version
// keeps exactly what it had, and the last one has everything, each number
// once.
func TestNumbersArePersistent(t *testing.T) {
	cases := map[string]struct{ count, replaced int }{
		"one":                        {count: 1},
		"as many as the slice keeps": {count: 8, replaced: 3},
		"one more than it keeps":     {count: 9, replaced: 8},
		"many":                       {count: 40, replaced: 20},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			versions := []domain.Numbers{{}}
			for i := range tc.count {
				n := versions[len(versions)-1]
				versions = append(versions, n.With(fmt.Sprintf("N-%d", i), domain.Processed{Content: "first", Revision: uint64(i)}))
			}
			last := versions[len(versions)-1]
			for i := range tc.replaced { // a reversal replaces what a payment's number recorded
				last = last.With(fmt.Sprintf("N-%d", i), domain.Processed{Content: "replaced", Revision: uint64(i)})
			}
			for v, n := range versions {
				require.Equal(t, v, n.Len(), "version %d", v)
				for i := range tc.count {
					done, found := n.Get(fmt.Sprintf("N-%d", i))
					require.Equal(t, i < v, found, "version %d, number %d", v, i)
					if found {
						assert.Equal(t, domain.Processed{Content: "first", Revision: uint64(i)}, done)
					}
				}
			}
			assert.Equal(t, tc.count, last.Len())
			for i := range tc.count {
				done, found := last.Get(fmt.Sprintf("N-%d", i))
				require.True(t, found)
				want := "first"
				if i < tc.replaced {
					want = "replaced"
				}
				assert.Equal(t, want, done.Content, "number %d", i)
			}
			_, found := last.Get("N-unknown")
			assert.False(t, found)
		})
	}
}

// TestDocumentNumbersHaveThreeDigitsAtLeast: a claim's documents are
// numbered {claim}-AD001, …, -AD999, -AD1000.
func TestDocumentNumbersHaveThreeDigitsAtLeast(t *testing.T) {
	cases := map[string]struct {
		issued int
		want   string
	}{
		"the first":    {issued: 0, want: "-AD001"},
		"the tenth":    {issued: 9, want: "-AD010"},
		"the 999th":    {issued: 998, want: "-AD999"},
		"the 1,000th":  {issued: 999, want: "-AD1000"},
		"the 12,345th": {issued: 12344, want: "-AD12345"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := MustApply(t, domain.Placement{}, place())
			p.Documents = tc.issued
			d := domain.Decide(p, domain.ReceivePayment{Amount: d("1"), At: t0})
			require.NoError(t, d.Err)
			doc, isDoc := d.Events[1].(domain.AccountingDocumentIssued)
			require.True(t, isDoc)
			assert.Equal(t, p.ClaimNumber+tc.want, doc.DocumentNumber)
		})
	}
}
