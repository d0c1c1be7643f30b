package domain

import "slices"

// The closed lists of the domain that requests name by value: a placement's
// statuses and the reasons of a pause. Each is listed here once; the API and
// the dashboard read and refuse through these functions.

// Statuses lists the statuses of a placement, in the order of its life.
func Statuses() []Status {
	return []Status{StatusActive, StatusPaused, StatusRecalled, StatusPaid, StatusWrittenOff}
}

// ParseStatus returns the status s names, and false when it names none.
func ParseStatus(s string) (Status, bool) {
	st := Status(s)
	return st, slices.Contains(Statuses(), st)
}

// StatusRule is what a status must be, as a refusal says it: "must be
// active, paused, recalled, paid or written_off".
func StatusRule() string { return "must be " + oneOf(Statuses()) }

// pauseReasons lists the reasons a placement may be paused for.
var pauseReasons = []string{PauseDispute, PauseCreditorRequest, PauseOther}

// ValidPauseReason refuses a reason that is not one a placement may be
// paused for; nil when it is one.
func ValidPauseReason(reason string) error {
	if slices.Contains(pauseReasons, reason) {
		return nil
	}
	return Invalid(FieldError{Field: "reason", Message: "must be " + oneOf(pauseReasons)})
}

// writeOffReasons lists the reasons a claim may be written off for.
var writeOffReasons = []string{WriteOffUncollectible, WriteOffInsolvency, WriteOffDeceased, WriteOffOther}

// WriteOffReasons lists the reasons a claim may be written off for.
func WriteOffReasons() []string { return slices.Clone(writeOffReasons) }

// ValidWriteOffReason refuses a reason that is not one a claim may be
// written off for; nil when it is one.
func ValidWriteOffReason(reason string) error {
	if slices.Contains(writeOffReasons, reason) {
		return nil
	}
	return Invalid(FieldError{Field: "reason", Message: "must be " + oneOf(writeOffReasons)})
}
