package projections

import (
	"github.com/collections-ledger/ledger/domain"
)

// ChargesView is what a placement resource (and a claim) shows of the
// claim's costs, interests and overpayment; absent on a claim that never
// had any, so the resources of earlier claims do not change.
type ChargesView struct {
	CostsAmount         string       `json:"costsAmount"`
	CostsOpenAmount     string       `json:"costsOpenAmount"`
	InterestsAmount     string       `json:"interestsAmount"`
	InterestsOpenAmount string       `json:"interestsOpenAmount"`
	OverpaidAmount      string       `json:"overpaidAmount"`
	Charges             []ChargeView `json:"charges"`
}

// ChargeView is one cost or interest charge: handed over or debited.
type ChargeView struct {
	Type        string `json:"type"`
	Number      string `json:"number"`
	Amount      string `json:"amount"`
	Date        string `json:"date"`
	Description string `json:"description,omitempty"`
}

// renderCharges is p's ChargesView; nil when it never had charges or an
// overpayment. Its amounts are the balances of the claim's costs, interests
// and overpayment accounts (p.Books); the list is the charges' own data.
func renderCharges(p domain.Placement) *ChargesView {
	if p.Charges == nil {
		return nil
	}
	money := func(m int64) string { return domain.FormatMinor(m, p.Currency) }
	b := p.Books
	v := &ChargesView{CostsAmount: money(b.Costs.Placed), CostsOpenAmount: money(b.Costs.Open()), InterestsAmount: money(b.Interests.Placed),
		InterestsOpenAmount: money(b.Interests.Open()), OverpaidAmount: money(b.Overpaid()), Charges: []ChargeView{}}
	for _, c := range p.Charges.Charges {
		v.Charges = append(v.Charges, ChargeView{Type: c.Type, Number: c.Number, Amount: domain.FormatMoney(c.Amount, p.Currency), Date: c.Date, Description: c.Description})
	}
	return v
}
