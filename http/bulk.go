package http

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
)

// MaxBulk bounds the placements of one bulk request.
const MaxBulk = 1000

type bulkRequest struct {
	PlacementIDs []string `json:"placementIds"`
	Reason       string   `json:"reason"`
	ResumeAt     *string  `json:"resumeAt"`
}

// BulkResult is one placement's outcome in a bulk response.
type BulkResult struct {
	PlacementID string   `json:"placementId"`
	Outcome     string   `json:"outcome"`
	Problem     *Problem `json:"problem"`
}

// parseBulk checks the ids: all UUIDs, none twice, at most MaxBulk. A bad
// list refuses the whole request, so nothing is done.
func parseBulk(r bulkRequest) ([]uuid.UUID, error) {
	switch {
	case len(r.PlacementIDs) == 0:
		return nil, domain.Invalid(domain.FieldError{Field: "placementIds", Message: "at least one placement id is required"})
	case len(r.PlacementIDs) > MaxBulk:
		return nil, domain.Invalid(domain.FieldError{Field: "placementIds", Message: fmt.Sprintf("at most %d placement ids", MaxBulk)})
	}
	ids := make([]uuid.UUID, len(r.PlacementIDs))
	seen := map[uuid.UUID]bool{}
	for i, raw := range r.PlacementIDs {
		id, err := uuid.Parse(raw)
		if err != nil || len(raw) != 36 {
			return nil, domain.Invalid(domain.FieldError{Field: fmt.Sprintf("placementIds[%d]", i), Message: "must be a UUID"})
		}
		if seen[id] {
			return nil, domain.Invalid(domain.FieldError{Field: fmt.Sprintf("placementIds[%d]", i), Message: "appears twice"})
		}
		seen[id] = true
		ids[i] = id
	}
	return ids, nil
}

// bulk runs one command per placement, each on its own: never all or
// nothing. With an Idempotency-Key each placement's command gets its own key
// derived from it, so repeating the bulk call changes nothing and answers as
// the first time did.
func (s *Server) bulk(c echo.Context, name, done string, validate func(bulkRequest) error, build func(at time.Time) domain.Command) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r bulkRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	ids, err := parseBulk(r)
	if err != nil {
		return err
	}
	if err := validate(r); err != nil {
		return err
	}
	base, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	base.BulkKey = base.IdempotencyKey
	if err := s.commands.CheckBulkKey(base); err != nil {
		return err // this key was used with another request: nothing is done
	}
	if _, seen := s.commands.Recorded(base.Actor, base.BulkKey); seen {
		c.Response().Header().Set("Idempotent-Replayed", "true") // as a single command's repeat says
	}
	results := make([]BulkResult, len(ids))
	var last uint64
	for i, id := range ids {
		req := base
		req.RequestID = uuid.NewString()
		if base.IdempotencyKey != "" {
			req.IdempotencyKey = base.IdempotencyKey + "/" + id.String()
		}
		res, err := s.run(name, func() (command.Result, error) {
			return s.commands.Execute(c.Request().Context(), id, req, build)
		})
		results[i] = BulkResult{PlacementID: id.String(), Outcome: done}
		if uint64(res.Position) > last {
			last = uint64(res.Position)
		}
		if err == nil {
			continue
		}
		p, internal := problemFor(err)
		if internal {
			return err // the store is failing: stop, say so
		}
		results[i].Problem = &p
		results[i].Outcome = "rejected"
		if errors.Is(err, domain.ErrNotFound) {
			results[i].Outcome = "not_found"
		}
	}
	if last > 0 {
		c.Response().Header().Set("Ledger-Position", fmt.Sprint(last))
	}
	return c.JSON(http.StatusOK, map[string]any{"results": results})
}

func (s *Server) bulkRecall(c echo.Context) error {
	return s.bulk(c, "recall", "recalled", func(r bulkRequest) error {
		if r.Reason != "" || r.ResumeAt != nil {
			return newError(http.StatusBadRequest, "unknown_field", "a bulk recall takes only placementIds",
				domain.FieldError{Field: "reason", Message: "is not a field of a bulk recall"})
		}
		return nil
	}, func(at time.Time) domain.Command { return domain.Recall{At: at} })
}

func (s *Server) bulkPause(c echo.Context) error {
	// reason and resumeAt are checked before anything is done, so a bad
	// pause refuses the whole request.
	var reason string
	var resumeAt *time.Time
	return s.bulk(c, "pause", "paused", func(r bulkRequest) error {
		reason = r.Reason
		if err := domain.ValidPauseReason(reason); err != nil {
			return err
		}
		var err error
		resumeAt, err = pauseRequest{ResumeAt: r.ResumeAt}.resumeAt()
		return err
	}, func(at time.Time) domain.Command { return domain.Pause{Reason: reason, ResumeAt: resumeAt, At: at} })
}
