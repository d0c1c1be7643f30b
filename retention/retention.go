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

// Due lists the debtors whose every placement is closed (recalled or paid)
// and whose last closing is longer ago than retention, and whose personal
// data still has its key: those a retention run erases.
func Due(views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	return dueBetween(views, keys, time.Time{}, now.Add(-retention), retention)
}

// dueBetween is Due for the debtors whose last closing is in [from,
// cutoff): it reads the views' index of closed placements in that window
// and each candidate's placements, not every placement. A debtor becomes
// due exactly when its last closing passes the cutoff, so a reactor that
// moves from on to each run's cutoff visits each closing once.
func dueBetween(views *projections.Views, keys pii.Keys, from, cutoff time.Time, retention time.Duration) ([]Debtor, error) {
	candidates := map[[2]string]bool{}
	var order [][2]string
	err := views.Closed(from, cutoff, func(creditor, customer string, _ uuid.UUID, _ time.Time) bool {
		k := [2]string{creditor, customer}
		if !candidates[k] {
			candidates[k] = true
			order = append(order, k)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var out []Debtor
	for _, k := range order {
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
func RunOnce(ctx context.Context, store eventstore.Store, views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	return runBetween(ctx, store, views, keys, time.Time{}, now.Add(-retention), retention, now)
}

func runBetween(ctx context.Context, store eventstore.Store, views *projections.Views, keys pii.Keys, from, cutoff time.Time, retention time.Duration, now time.Time) ([]Debtor, error) {
	due, err := dueBetween(views, keys, from, cutoff, retention)
	if err != nil {
		return nil, err
	}
	var done []Debtor
	for _, d := range due {
		if _, err := Erase(ctx, store, keys, d.CreditorID, d.CustomerNumber, journal.ActorSystem, journal.ActorSystem,
			journal.ErasureRetentionExpired, now); err != nil {
			return done, err
		}
		done = append(done, d)
	}
	return done, nil
}

// Run erases what is due every interval until ctx ends (under the lease:
// one instance does it). The first run looks at every closing; each later
// one only at the closings that passed the cutoff since the last.
func Run(ctx context.Context, store eventstore.Store, views *projections.Views, keys pii.Keys, retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var from time.Time
	for {
		now := time.Now()
		cutoff := now.Add(-retention)
		erased, err := runBetween(ctx, store, views, keys, from, cutoff, retention, now)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("retention run failed; will try again", "err", err.Error())
		case err == nil:
			from = cutoff
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
