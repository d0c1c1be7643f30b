package http

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// schedule runs StartEmailSequence or ScheduleCall: req is the route's own
// body, when reads its time field, build makes the command with a fresh id,
// and the answer is {idField: id}: on an idempotent repeat, the first
// execution's id, the newest one of the placement as it stood then.
func (s *Server) schedule(c echo.Context, name, idField string, req any, when func() (time.Time, error),
	build func(id uuid.UUID, when, at time.Time) domain.Command, newest func(domain.Placement) uuid.UUID) error {
	id, body, err := placementCommand(c, req)
	if err != nil {
		return err
	}
	t, err := when()
	if err != nil {
		return err
	}
	newID := uuid.New()
	res, err := s.execute(c, name, id, body, func(at time.Time) domain.Command { return build(newID, t, at) })
	if err != nil {
		return err
	}
	if res.Replayed {
		newID = newest(res.Placement)
	}
	return c.JSON(http.StatusCreated, map[string]any{idField: newID})
}

func (s *Server) startSequence(c echo.Context) error {
	var r struct {
		NextSendAt string `json:"nextSendAt"`
	}
	return s.schedule(c, "start_email_sequence", "sequenceId", &r,
		func() (time.Time, error) { return parseTime(r.NextSendAt, "nextSendAt") },
		func(id uuid.UUID, when, at time.Time) domain.Command {
			return domain.StartEmailSequence{SequenceID: id, NextSendAt: when, At: at}
		},
		func(p domain.Placement) uuid.UUID { return p.Sequences[len(p.Sequences)-1].ID })
}

func (s *Server) scheduleCall(c echo.Context) error {
	var r struct {
		ScheduledAt string `json:"scheduledAt"`
	}
	return s.schedule(c, "schedule_call", "callId", &r,
		func() (time.Time, error) { return parseTime(r.ScheduledAt, "scheduledAt") },
		func(id uuid.UUID, when, at time.Time) domain.Command {
			return domain.ScheduleCall{CallID: id, ScheduledAt: when, At: at}
		},
		func(p domain.Placement) uuid.UUID { return p.Calls[len(p.Calls)-1].ID })
}

func (s *Server) dialCall(c echo.Context) error {
	id, body, err := placementCommand(c, nil)
	if err != nil {
		return err
	}
	call, err := pathUUID(c, "callId")
	if err != nil {
		return err
	}
	res, err := s.execute(c, "dial_call", id, body, func(at time.Time) domain.Command { return domain.DialCall{CallID: call, At: at} })
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

type completeRequest struct {
	Outcome string `json:"outcome"`
}

func (s *Server) completeCall(c echo.Context) error {
	var r completeRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	call, err := pathUUID(c, "callId")
	if err != nil {
		return err
	}
	res, err := s.execute(c, "complete_call", id, body, func(at time.Time) domain.Command {
		return domain.CompleteCall{CallID: call, Outcome: r.Outcome, At: at}
	})
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}
