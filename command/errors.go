package command

import (
	"errors"

	"github.com/collections-ledger/ledger/domain"
)

// Refused is a refusal that nevertheless recorded events: a recall of a
// closed placement records RecallRejected and is refused as closed. It is
// the one way a command says so; Err is the refusal (a *domain.Error, which
// errors.As and errors.Is find through Refused) and Result what was
// recorded. A method that returns a Refused returns its Result too.
type Refused struct {
	Err    error
	Result Result
}

func (r *Refused) Error() string { return r.Err.Error() }

func (r *Refused) Unwrap() error { return r.Err }

// AsRefused returns err as a Refused, if it is one.
func AsRefused(err error) (*Refused, bool) {
	var r *Refused
	ok := errors.As(err, &r)
	return r, ok
}

// refusal is the Refused of a repeat whose first execution recorded the
// outcome code (its events' metadata says so), nil when it had none.
func refusal(res Result, outcome string) error {
	if outcome == "" {
		return nil
	}
	err := domain.ErrClosed
	if outcome != domain.ErrClosed.Code {
		err = &domain.Error{Kind: domain.KindConflict, Code: outcome, Message: outcome}
	}
	return &Refused{Err: err, Result: res}
}
