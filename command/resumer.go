package command

import (
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
)

// Due is a held placement whose resumeAt has come.
type Due struct {
	ID       uuid.UUID
	ResumeAt time.Time
}

// Resumer resumes held placements at their resumeAt, as the actor "system".
// Each resume names the hold it ends (its resumeAt), so a placement resumed
// and held again meanwhile is left alone, and when several instances race,
// the store's revision check lets exactly one win: the others are refused
// with domain.ErrNotPaused, the expected answer for the loser.
type Resumer struct{ *scheduled[Due] }

// NewResumer returns a resumer that asks due for what is due.
func NewResumer(h *Handler, due func(now time.Time) []Due, logger *slog.Logger) *Resumer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Resumer{&scheduled[Due]{h: h, due: due, logger: logger, done: []error{domain.ErrNotPaused, domain.ErrClosed},
		failed: "automatic resume failed; will try again",
		command: func(d Due) (uuid.UUID, func(at time.Time) domain.Command) {
			due := d.ResumeAt
			return d.ID, func(at time.Time) domain.Command { return domain.Resume{Due: &due, At: at} }
		}}}
}
