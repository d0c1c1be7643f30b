// Package retention erases debtors' personal data: on request (the API's
// DELETE /v1/debtors/{customerNumber}/personal-data) and when its retention
// after the debtor's last claim closed has passed (a reactor under the
// ledger's lease, and `ledger retention`). Erasing destroys the debtor's
// data keys (package pii), then records DebtorPersonalDataErased.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
)

// Erasure is what an erasure left: its record.
type Erasure struct {
	journal.DebtorPersonalDataErased
	At       time.Time
	By       string
	Position eventstore.Position
	// Recorded is false when an earlier erasure answered (nothing to do).
	Recorded bool
}

// Erase destroys a debtor's data keys, then records the erasure, unless it
// was recorded before and there was nothing left to destroy (a repeat). The
// keys go first: a crash between the two leaves the data erased and the
// request unanswered, and its repeat records it.
func Erase(ctx context.Context, store eventstore.Store, keys pii.Keys, creditor, customer, actor, actorType, reason string, now time.Time) (Erasure, error) {
	destroyed, err := keys.Destroy(creditor, customer)
	if err != nil {
		return Erasure{}, fmt.Errorf("retention: destroying the data keys: %w", err)
	}
	stream := journal.DebtorStream(creditor, customer)
	last, recorded, err := journal.LastEvent(ctx, store, stream)
	if err != nil {
		return Erasure{}, err
	}
	out := Erasure{}
	if destroyed || !recorded {
		if _, err := journal.AppendSystem(ctx, store, stream, actor, actorType, journal.DebtorPersonalDataErasedType,
			journal.DebtorPersonalDataErased{CreditorID: creditor, CustomerNumber: customer, Reason: reason, KeysDestroyed: destroyed}, now); err != nil {
			return Erasure{}, err
		}
		if last, _, err = journal.LastEvent(ctx, store, stream); err != nil {
			return Erasure{}, err
		}
		out.Recorded = true
	}
	m, err := journal.DecodeMetadata(last.Metadata)
	if err != nil {
		return Erasure{}, err
	}
	if err := decodeInto(last.Data, &out.DebtorPersonalDataErased); err != nil {
		return Erasure{}, err
	}
	out.At, out.By, out.Position = m.OccurredAt, m.Actor, last.Position
	return out, nil
}

// Debtor is a debtor whose personal data's retention has passed.
type Debtor struct {
	CreditorID     string    `json:"creditorId"`
	CustomerNumber string    `json:"customerNumber"`
	Placements     int       `json:"placements"`
	LastClosedAt   time.Time `json:"lastClosedAt"`
	ErasableFrom   time.Time `json:"erasableFrom"`
}

// Due lists the debtors whose every placement is closed (recalled, paid or written off)
// and whose last closing is longer ago than retention, and whose personal
// data still has its key: those a retention run erases.
func Due(views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	out, _, err := dueBetween(views, keys, window{cutoff: now.Add(-retention)}, retention)
	return out, err
}

// window is what one run looks at: the closings in [from, cutoff), and the
// contact changes of closed placements after position after.
type window struct {
	from, cutoff time.Time
	after        eventstore.Position
}

// dueBetween is Due for the debtors whose last closing is in the window,
// or who got new personal data on a closed placement after its position:
// it reads the views' index of closed placements in that window, the index
// of closed placements' contact changes, and each candidate's placements,
// not every placement. A debtor becomes due exactly when its last closing
// passes the cutoff, or at a contact change when that passed already, so a
// reactor that moves the window on with each run visits each once. It
// returns the position of the last contact change it read (after: none).
func dueBetween(views *projections.Views, keys pii.Keys, w window, retention time.Duration) ([]Debtor, eventstore.Position, error) {
	candidates := map[[2]string]bool{}
	var order [][2]string
	add := func(creditor, customer string) {
		k := [2]string{creditor, customer}
		if !candidates[k] {
			candidates[k] = true
			order = append(order, k)
		}
	}
	err := views.Closed(w.from, w.cutoff, func(creditor, customer string, _ uuid.UUID, _ time.Time) bool {
		add(creditor, customer)
		return true
	})
	if err != nil {
		return nil, w.after, err
	}
	last := w.after
	err = views.ClosedContactChanges(w.after, func(creditor, customer string, _ uuid.UUID, at eventstore.Position) bool {
		add(creditor, customer)
		last = at
		return true
	})
	if err != nil {
		return nil, w.after, err
	}
	out, err := dueOf(views, keys, order, w.cutoff, retention)
	return out, last, err
}

// dueOf keeps the candidates that are due and still have a data key.
func dueOf(views *projections.Views, keys pii.Keys, candidates [][2]string, cutoff time.Time, retention time.Duration) ([]Debtor, error) {
	var out []Debtor
	for _, k := range candidates {
		d, due, err := debtorDue(views, k[0], k[1], cutoff)
		if err != nil {
			return nil, err
		}
		if !due {
			continue
		}
		has, err := keys.Has(k[0], k[1])
		if err != nil {
			return nil, err
		}
		if has {
			d.ErasableFrom = d.LastClosedAt.Add(retention)
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreditorID != out[j].CreditorID {
			return out[i].CreditorID < out[j].CreditorID
		}
		return out[i].CustomerNumber < out[j].CustomerNumber
	})
	return out, nil
}

// debtorDue reads a debtor's placements: due when all are closed, the last
// before cutoff.
func debtorDue(views *projections.Views, creditor, customer string, cutoff time.Time) (Debtor, bool, error) {
	d := Debtor{CreditorID: creditor, CustomerNumber: customer}
	var after projections.ListCursor
	for {
		page, next, err := views.Search(creditor, projections.SearchCustomer, customer, after, 200)
		if err != nil {
			return d, false, err
		}
		for _, raw := range page {
			var p struct {
				Status     domain.Status `json:"status"`
				ResolvedAt *time.Time    `json:"resolvedAt"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return d, false, err
			}
			d.Placements++
			if !p.Status.Closed() || p.ResolvedAt == nil {
				return d, false, nil
			}
			if p.ResolvedAt.After(d.LastClosedAt) {
				d.LastClosedAt = *p.ResolvedAt
			}
		}
		if next == nil {
			break
		}
		after = *next
	}
	return d, d.Placements > 0 && d.LastClosedAt.Before(cutoff), nil
}

// RunOnce erases every debtor Due lists, as the actor "system" with reason
// RETENTION_EXPIRED, and returns those it erased.
func RunOnce(ctx context.Context, erase Eraser, views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	var r Reactor
	return r.Step(ctx, erase, views, keys, retention, now)
}

// Eraser erases one debtor's personal data, as Erase does. The ledger's is
// command.Handler.Erase: the reactor changes the ledger through the command
// handler, as the API and the dashboard do.
type Eraser func(ctx context.Context, creditor, customer, actor, actorType, reason string) (Erasure, error)

// Reactor is the retention run of a live ledger: its first Step looks at
// every closing; each later one only at the closings that passed the
// cutoff since the last, and at the contact changes of closed placements
// recorded since (new personal data of a debtor whose retention may have
// passed already, even one erased before).
type Reactor struct {
	w window
}

// Step erases what is due at now and moves the reactor's window on.
func (r *Reactor) Step(ctx context.Context, erase Eraser, views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	w := r.w
	w.cutoff = now.Add(-retention)
	due, last, err := dueBetween(views, keys, w, retention)
	if err != nil {
		return nil, err
	}
	var done []Debtor
	for _, d := range due {
		if _, err := erase(ctx, d.CreditorID, d.CustomerNumber, journal.ActorSystem, journal.ActorSystem,
			journal.ErasureRetentionExpired); err != nil {
			return done, err
		}
		done = append(done, d)
	}
	r.w = window{from: w.cutoff, after: last}
	return done, nil
}

// Run erases what is due every interval until ctx ends (under the lease:
// one instance does it), a Reactor's Step at each.
func Run(ctx context.Context, erase Eraser, views *projections.Views, keys pii.Keys, retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var r Reactor
	for {
		erased, err := r.Step(ctx, erase, views, keys, retention, time.Now())
		if err != nil && ctx.Err() == nil {
			logger.Error("retention run failed; will try again", "err", err.Error())
		}
		if len(erased) > 0 {
			logger.Info("retention: personal data erased", "debtors", len(erased))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaxRetention is the longest retention period accepted: 100 years (of
// 365 days). Longer ones would overflow the arithmetic on times (a period
// of 300 years wrapped around to a negative one and made every closed
// debtor due) and are never meant.
const MaxRetention = 100 * 365 * 24 * time.Hour

const retentionForm = "a retention is a positive number of years (10y), days (90d) or a duration (2160h)"

// ParseRetention reads a retention period: a number of years (10y), days
// (90d) or a Go duration (2160h), positive and at most MaxRetention (100y).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	tooLong := fmt.Errorf("a retention of %q is longer than the longest accepted, 100 years (100y, 36500d, 876000h)", s)
	for unit, d := range map[string]time.Duration{"y": 365 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.ParseUint(n, 10, 64)
			switch {
			case errors.Is(err, strconv.ErrRange) || err == nil && v > uint64(MaxRetention/d):
				return 0, tooLong
			case err != nil || v == 0:
				return 0, errors.New(retentionForm)
			}
			return time.Duration(v) * d, nil
		}
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && oneUnit.MatchString(s):
		return 0, tooLong // a number of hours, minutes or seconds beyond what a duration holds
	case err != nil || d <= 0:
		return 0, errors.New(retentionForm)
	case d > MaxRetention:
		return 0, tooLong
	}
	return d, nil
}

// oneUnit is a duration of digits and one unit, which ParseDuration
// refuses only when it overflows.
var oneUnit = regexp.MustCompile(`^[0-9]+(ns|us|µs|ms|s|m|h)$`)

func decodeInto(b []byte, v any) error { return json.Unmarshal(b, v) }
