package domain

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error; the HTTP layer maps each kind to a status.
type Kind string

const (
	KindInvalid       Kind = "invalid"       // the command is malformed: 400/422
	KindNotFound      Kind = "not_found"     // the thing does not exist: 404
	KindConflict      Kind = "conflict"      // the state does not allow it: 409
	KindClosed        Kind = "closed"        // the placement is recalled, paid or written off: 409
	KindUnprocessable Kind = "unprocessable" // well-formed but refused by a rule: 422
	// KindPreconditionFailed: the placement's revision is not the one the
	// request was conditional on (If-Match): 412.
	KindPreconditionFailed Kind = "precondition_failed"
	// KindContention: the command lost the race for its stream too often: 503.
	KindContention Kind = "contention"
	// KindUnavailable: something the command needs (the key store) cannot
	// serve it right now; nothing was recorded: 503.
	KindUnavailable Kind = "unavailable"
)

// Error is a domain error with a stable machine code and, for validation,
// the fields at fault.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
}

// FieldError names one field at fault.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %s: %s", e.Message, e.Fields[0].Field, e.Fields[0].Message)
}

// Is matches errors of the same kind and code, so errors.Is(err, ErrClosed)
// works for any placement_closed error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrClosed            = &Error{Kind: KindClosed, Code: "placement_closed", Message: "the placement is closed (recalled, paid or written off)"}
	ErrNotFound          = &Error{Kind: KindNotFound, Code: "not_found", Message: "not found"}
	ErrAmountExceeds     = &Error{Kind: KindUnprocessable, Code: "amount_exceeds_outstanding", Message: "the amount exceeds what is still owed"}
	ErrClaimNumberTaken  = &Error{Kind: KindConflict, Code: "claim_number_taken", Message: "the claim number is already used by another placement of this creditor"}
	ErrInvalidTransition = &Error{Kind: KindConflict, Code: "invalid_transition", Message: "the call is not in a state that allows this"}
	ErrPlacementExists   = &Error{Kind: KindConflict, Code: "placement_exists", Message: "the placement exists already"}
	ErrPaused            = &Error{Kind: KindConflict, Code: "placement_paused", Message: "the placement is paused: no sequence starts and no call is scheduled or dialed until it is resumed"}
	ErrAlreadyPaused     = &Error{Kind: KindConflict, Code: "already_paused", Message: "the placement is paused already"}
	ErrNotPaused         = &Error{Kind: KindConflict, Code: "not_paused", Message: "the placement is not paused"}
	// A payment or credit waiver number is an idempotency key of the domain:
	// the same number with other content is refused.
	ErrPaymentNumberReused    = &Error{Kind: KindConflict, Code: "payment_number_reused", Message: "this paymentNumber was used before for another payment of this claim"}
	ErrPaymentNotFound        = &Error{Kind: KindNotFound, Code: "payment_not_found", Message: "the placement has no payment with this number"}
	ErrPaymentAlreadyReversed = &Error{Kind: KindConflict, Code: "payment_already_reversed", Message: "this payment was reversed already, for another reason"}
	ErrDocumentNotFound       = &Error{Kind: KindNotFound, Code: "document_not_found", Message: "the claim has no payment or credit waiver with this number"}
	ErrWaiverNumberReused     = &Error{Kind: KindConflict, Code: "credit_waiver_number_reused", Message: "this creditWaiverNumber was used before for another credit waiver of this claim"}
	// Errors of command handling around the decision.
	ErrNothingToRemit         = &Error{Kind: KindUnprocessable, Code: "nothing_to_remit", Message: "the agency owes the creditor nothing in this currency up to this date: no unsettled collection, or fees and reversals take it all"}
	ErrRemittanceNumberReused = &Error{Kind: KindConflict, Code: "remittance_number_reused", Message: "this remittanceNumber was used before for another remittance to this creditor"}
	ErrCreditorNotFound       = &Error{Kind: KindNotFound, Code: "creditor_not_found", Message: "the ledger has no placement of this creditor"}

	ErrPreconditionFailed = &Error{Kind: KindPreconditionFailed, Code: "precondition_failed", Message: "the placement's revision is not the one given in If-Match"}
	ErrIdempotencyReused  = &Error{Kind: KindUnprocessable, Code: "idempotency_key_reused", Message: "this Idempotency-Key was used before with a different request"}
	ErrTooMuchContention  = &Error{Kind: KindContention, Code: "too_much_contention", Message: "the placement changed too often while the command was decided; try again"}
	// ErrCannotSeal: the key store cannot seal a debtor's personal data.
	ErrCannotSeal = &Error{Kind: KindUnavailable, Code: "key_store_unavailable", Message: "the key store cannot seal personal data right now; nothing was recorded"}
	// ErrPersonalDataNotAccepted: the ledger runs without a key store.
	ErrPersonalDataNotAccepted = &Error{Kind: KindUnprocessable, Code: "personal_data_not_accepted",
		Message: "this ledger runs without a master key (LEDGER_MASTER_KEY), so it cannot store personal data; send the customer with customerNumber only"}
)

// Invalid builds a validation error naming the fields at fault.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the request is invalid", Fields: fields}
}

// Unprocessable builds a rule refusal with its own code.
func Unprocessable(code, field, message string) *Error {
	return &Error{Kind: KindUnprocessable, Code: code, Message: message, Fields: []FieldError{{Field: field, Message: message}}}
}

// AsError returns err as a domain error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ErrPostingsInvariant is a decision whose postings would not balance or
// would break the conservation of a claim's money: a fault of the ledger, not
// of the request, so it is answered as an internal error and records nothing.
var ErrPostingsInvariant = errors.New("domain: postings invariant broken")
