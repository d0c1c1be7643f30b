package domain

import (
	"fmt"
	"sync/atomic"
	"time"
)

// DateOnly is t's day in UTC as YYYY-MM-DD (t.UTC().Format(time.DateOnly)).
// The text of the last day asked for is kept, so the many calls of one day
// (every posting, value date and feed item of a command, of a run of the log)
// format and allocate once.
func DateOnly(t time.Time) string {
	t = t.UTC()
	sec := t.Unix()
	day := sec / secondsPerDay
	if sec%secondsPerDay < 0 {
		day--
	}
	if last := lastDay.Load(); last != nil && last.day == day {
		return last.text
	}
	text := t.Format(time.DateOnly)
	lastDay.Store(&dayText{day: day, text: text})
	return text
}

const secondsPerDay = 24 * 60 * 60

type dayText struct {
	day  int64 // days since 1970-01-01
	text string
}

var lastDay atomic.Pointer[dayText]

// ValueDate is the value date (YYYY-MM-DD) of an event booked at bookedAt:
// the day the money moved as the client stated it, which reports and
// postings may select by instead of the booking time. It is the event's own
// date when it has one (a payment's or credit waiver's date, a reversal's
// valueDate, an accounting document's date), else the day it was booked, in
// UTC. A reversal's Date is its payment's, not its own, and is not used.
// Documents of schema 4 and earlier are dated with the day they were booked.
// The one place a value date is read: postings, reports and feeds use it.
func ValueDate(e Event, bookedAt time.Time) string {
	var own string
	switch e := e.(type) {
	case PaymentReceived:
		own = e.Date
	case CreditWaiverIssued:
		own = e.Date
	case PaymentReversed:
		own = e.ValueDate
	case CreditWaiverCancelled:
		own = e.Date
	case AccountingDocumentIssued:
		own = e.Date
	}
	if own != "" { // ParseDate("") fails, building an error
		if _, valid := ParseDate(own); valid { // an old event's malformed date is not a value date
			return own
		}
	}
	return DateOnly(bookedAt)
}

// valueDateRefusal checks a value date a client gave (field names it in the
// refusal) against the day the command is decided at: "" (none given) and
// any well-formed date up to that day (UTC) pass; a date after it is
// unprocessable, as money cannot have moved in the future.
func valueDateRefusal(date, field string, at time.Time) error {
	if date == "" {
		return nil
	}
	if _, ok := ParseDate(date); !ok {
		return Invalid(FieldError{Field: field, Message: "must be a date YYYY-MM-DD"})
	}
	if today := DateOnly(at); date > today {
		return Unprocessable("future_value_date", field, fmt.Sprintf("the value date %s is after today (%s, UTC)", date, today))
	}
	return nil
}

// valueDateOr is a value date the client gave, or the day at (UTC) when it
// gave none.
func valueDateOr(date string, at time.Time) string {
	if date != "" {
		return date
	}
	return DateOnly(at)
}
