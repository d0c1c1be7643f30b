package projections_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestFeedOfCharges: a handover's costs and interests are confirmed each,
// a debit shows as its DEBIT document, and a recall confirms and cancels
// the charges with the principal, as the domain decides them.
func TestFeedOfCharges(t *testing.T) {
	for _, cur := range []string{"EUR", "JPY", "BHD"} {
		t.Run(cur, func(t *testing.T) {
			n := decimal.NewFromInt
			o := opened()
			o.Currency = cur
			o.Charges = []domain.Charge{{Type: domain.ChargeCosts, Number: "K-1", Amount: n(20), Date: "2024-04-01"},
				{Type: domain.ChargeInterests, Number: "Z-1", Amount: n(10), Date: "2024-04-01"}}
			s := &stream{schema: domain.SchemaVersion}
			s.add("r-open", o)
			p := domain.Evolve(domain.Placement{}, o)
			for i, c := range []domain.Command{
				domain.AddDebit{Charge: domain.Charge{Type: domain.ChargeCosts, Number: "D-1", Amount: n(5), Date: "2024-08-01"}, At: feedT0},
				domain.Recall{At: feedT0},
			} {
				dec := domain.Decide(p, c)
				require.NoError(t, dec.Err)
				s.add([]string{"r-debit", "r-recall"}[i], dec.Events...)
				for _, e := range dec.Events {
					p = domain.Evolve(p, e)
				}
			}
			var items []map[string]any
			require.NoError(t, json.Unmarshal([]byte(feedJSON(t, s.records)), &items))
			var got []string
			for _, it := range items {
				for _, k := range []string{"confirmation", "accountingDocument", "closing"} {
					if m, ok := it[k].(map[string]any); ok {
						got = append(got, it["type"].(string)+" "+m["type"].(string))
						if amount, ok := m["amount"]; ok {
							got[len(got)-1] += " " + string(mustJSON(t, amount))
						}
					}
				}
			}
			assert.Equal(t, []string{
				"CONFIRMATION INVOICE 100", "CONFIRMATION INVOICE 300", // the handover's invoices (schema 5 on), then its charges
				"CONFIRMATION CLIENT_COSTS 20", "CONFIRMATION CLIENT_INTERESTS 10",
				"ACCOUNTING_DOCUMENT DEBIT 5",
				"CONFIRMATION RECALL 435", "ACCOUNTING_DOCUMENT CANCELLATION -435", "CLOSING RECALLED_BY_CLIENT",
			}, got)
			ids := map[any]bool{}
			for _, it := range items {
				assert.False(t, ids[it["id"]], "item ids are unique")
				ids[it["id"]] = true
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
