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
// data still has its key: those a retention run erases. It reads every
// placement state of the views once.
func Due(views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	type debtor struct {
		open, withData bool
		n              int
		last           time.Time
	}
	all := map[[2]string]*debtor{}
	err := views.EachPlacement(func(_ uuid.UUID, p domain.Placement, _ uint64) error {
		k := [2]string{p.CreditorID, p.CustomerNumber}
		d := all[k]
		if d == nil {
			d = &debtor{}
			all[k] = d
		}
		d.n++
		d.withData = d.withData || p.PersonalData != nil
		if !p.Status.Closed() || p.ResolvedAt == nil {
			d.open = true
		} else if p.ResolvedAt.After(d.last) {
			d.last = *p.ResolvedAt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Debtor
	for k, d := range all {
		if d.open || !d.withData || d.last.Add(retention).After(now) {
			continue
		}
		has, err := keys.Has(k[0], k[1])
		if err != nil {
			return nil, err
		}
		if has {
			out = append(out, Debtor{CreditorID: k[0], CustomerNumber: k[1], Placements: d.n, LastClosedAt: d.last, ErasableFrom: d.last.Add(retention)})
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

// RunOnce erases every debtor Due lists, as the actor "system" with reason
// RETENTION_EXPIRED, and returns those it erased.
func RunOnce(ctx context.Context, store eventstore.Store, views *projections.Views, keys pii.Keys, retention time.Duration, now time.Time) ([]Debtor, error) {
	due, err := Due(views, keys, retention, now)
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
// one instance does it).
func Run(ctx context.Context, store eventstore.Store, views *projections.Views, keys pii.Keys, retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		erased, err := RunOnce(ctx, store, views, keys, retention, time.Now())
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

// ParseRetention reads a retention period: a number of years (10y), days
// (90d) or a Go duration (2160h).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for unit, d := range map[string]time.Duration{"y": 365 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				break
			}
			return time.Duration(v) * d, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("a retention is a positive number of years (10y), days (90d) or a duration (2160h)")
	}
	return d, nil
}

func decodeInto(b []byte, v any) error { return json.Unmarshal(b, v) }
