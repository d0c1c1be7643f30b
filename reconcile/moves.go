package reconcile

import (
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// Moves are what one event's postings move the accounts finance reads by,
// in units of the event's currency: each creditor counter-account's debits
// minus its credits, and the claim's overpayment account's credits minus
// its debits (Overpaid, the account's balance being a credit).
type Moves struct {
	Collected     decimal.Decimal `json:"collected"`     // creditor/collected
	AgencyPayable decimal.Decimal `json:"agencyPayable"` // agency/payable
	Fees          decimal.Decimal `json:"fees"`          // creditor/fees
	Waived        decimal.Decimal `json:"waived"`        // creditor/waived
	Recalled      decimal.Decimal `json:"recalled"`      // creditor/recalled
	WrittenOff    decimal.Decimal `json:"writtenOff"`    // creditor/written-off
	Overpaid      decimal.Decimal `json:"overpaid"`      // claim/{claimNumber}/overpayment
}

// MovesOf sums postings (one event's, of the claim claimNumber) into the
// movements of the accounts finance reads; postings of other accounts (the
// claim's receivables, creditor/placed, agency/fees) are left out, and so
// are those in another currency than currency.
func MovesOf(postings []domain.Posting, claimNumber, currency string) Moves {
	var minor struct{ collected, payable, fees, waived, recalled, writtenOff, overpaid int64 }
	overpayment := domain.OverpaymentAccount(claimNumber)
	for _, p := range postings {
		if p.Currency != currency {
			continue
		}
		switch p.Account {
		case domain.AccountCollected:
			minor.collected += p.Signed()
		case domain.AccountAgencyPayable:
			minor.payable += p.Signed()
		case domain.AccountFees:
			minor.fees += p.Signed()
		case domain.AccountWaived:
			minor.waived += p.Signed()
		case domain.AccountRecalled:
			minor.recalled += p.Signed()
		case domain.AccountWrittenOff:
			minor.writtenOff += p.Signed()
		case overpayment:
			minor.overpaid -= p.Signed()
		}
	}
	units := func(n int64) decimal.Decimal { return domain.MajorAmount(n, currency) }
	return Moves{Collected: units(minor.collected), AgencyPayable: units(minor.payable), Fees: units(minor.fees), Waived: units(minor.waived),
		Recalled: units(minor.recalled), WrittenOff: units(minor.writtenOff), Overpaid: units(minor.overpaid)}
}
