package journal

import (
	"time"

	"github.com/google/uuid"
)

// The events of a debtor's personal data that are not a placement's: its
// erasure (DebtorStream) and who read it (AccessStream). Neither carries
// personal data: the customer number is the debtor's reference, kept in
// clear like the amounts.
const (
	DebtorPersonalDataErasedType = "DebtorPersonalDataErased"
	PersonalDataReadType         = "PersonalDataRead"
)

// Why personal data is erased.
const (
	ErasureDataSubjectRequest = "DATA_SUBJECT_REQUEST"
	ErasureRetentionExpired   = "RETENTION_EXPIRED"
	ErasureOther              = "OTHER"
)

// DebtorPersonalDataErased records that a debtor's data keys were
// destroyed: every piece of its personal data sealed under them, in every
// event and export, is unreadable from then on. Who did it and when are in
// the event's metadata.
type DebtorPersonalDataErased struct {
	CreditorID     string `json:"creditorId"`
	CustomerNumber string `json:"customerNumber"`
	Reason         string `json:"reason"`
	// KeysDestroyed is false when the keys were gone already (a repeat after
	// an interruption, or no personal data was ever stored).
	KeysDestroyed bool `json:"keysDestroyed"`
}

// PersonalDataRead records that someone was shown a debtor's personal data
// in clear: who (the event's actor), whose, through which route, when.
type PersonalDataRead struct {
	CreditorID     string    `json:"creditorId"`
	CustomerNumber string    `json:"customerNumber"`
	PlacementID    uuid.UUID `json:"placementId"`
	ClaimNumber    string    `json:"claimNumber"`
	Route          string    `json:"route"`
	ReadAt         time.Time `json:"readAt"`
}
