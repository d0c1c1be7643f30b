package projections

import (
	"github.com/collections-ledger/ledger/domain"
)

// Charge confirmation types: a handover's costs and interests, each
// confirmed by an item of its own.
const (
	ConfirmClientCosts     = "CLIENT_COSTS"
	ConfirmClientInterests = "CLIENT_INTERESTS"
)

// chargeConfirmations are the CONFIRMATION items of the costs and interests
// a handover brought (none for a handover without, as every claim placed
// before they were kept: their feeds do not change). base makes the k-th
// item of the event.
func chargeConfirmations(e domain.PlacementOpened, date string, base func(k int, typ string) FeedItem) []FeedItem {
	var items []FeedItem
	for k, c := range e.Charges {
		typ := ConfirmClientCosts
		if c.Type == domain.ChargeInterests {
			typ = ConfirmClientInterests
		}
		it := base(len(e.Invoices)+k, ItemConfirmation) // after the ids of the INVOICE items
		it.Confirmation = &Confirmation{Date: date, Type: typ, Number: c.Number, ContractNumber: "", Amount: Exact(c.Amount), Currency: e.Currency}
		items = append(items, it)
	}
	return items
}
