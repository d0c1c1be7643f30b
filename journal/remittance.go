package journal

import (
	"time"

	"github.com/collections-ledger/ledger/domain"
)

// RemittanceIssuedType is the event of a creditor's remittance stream
// (RemittanceStream): the agency paid the creditor what it had collected
// for it, net of the fees on those collections.
const RemittanceIssuedType = "RemittanceIssued"

// SettlementItem is one event of a claim whose postings moved agency/payable
// (a payment to the agency, or its reversal), as a remittance settles it.
// Amounts are integer minor units of the remittance's currency: Collected is
// the event's net agency/payable debit (negative for a reversal), Fee the
// change of the claim's fee the event caused (its net creditor/fees debit).
type SettlementItem struct {
	Position       uint64 `json:"position"`
	ClaimNumber    string `json:"claimNumber"`
	DocumentNumber string `json:"documentNumber"`
	ValueDate      string `json:"valueDate"`
	Collected      int64  `json:"collected"`
	Fee            int64  `json:"fee"`
}

// Net is what an item adds to what the agency owes the creditor.
func (i SettlementItem) Net() int64 { return i.Collected - i.Fee }

// RemittanceIssued settles Items: Amount = Collected − Fees, their sums.
type RemittanceIssued struct {
	RemittanceNumber string           `json:"remittanceNumber"`
	CreditorID       string           `json:"creditorId"`
	Currency         string           `json:"currency"`
	To               string           `json:"to"`
	Amount           int64            `json:"amount"`
	Collected        int64            `json:"collected"`
	Fees             int64            `json:"fees"`
	Items            []SettlementItem `json:"items"`
}

// Remittance is a recorded remittance: the event, where it is in the log
// and when it was issued.
type Remittance struct {
	RemittanceIssued
	Position uint64    `json:"position"`
	IssuedAt time.Time `json:"issuedAt"`
}

// NewRemittance totals the items a remittance settles.
func NewRemittance(number, creditor, currency, to string, items []SettlementItem) RemittanceIssued {
	r := RemittanceIssued{RemittanceNumber: number, CreditorID: creditor, Currency: currency, To: to, Items: items}
	for _, it := range items {
		r.Collected += it.Collected
		r.Fees += it.Fee
	}
	r.Amount = r.Collected - r.Fees
	return r
}

// Postings are the remittance's postings, dated the day it was issued:
// debit creditor/remitted by the amount and agency/fees by the fees (the
// agency keeps them), credit agency/payable by what was collected.
func (r RemittanceIssued) Postings(issuedAt time.Time) []domain.Posting {
	return domain.RemittancePostings(r.Amount, r.Collected, r.Fees, r.Currency, issuedAt.UTC().Format(time.DateOnly))
}
