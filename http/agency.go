package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

type sequenceRequest struct {
	NextSendAt string `json:"nextSendAt"`
}

func (s *Server) startSequence(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r sequenceRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	next, err := parseTime(r.NextSendAt, "nextSendAt")
	if err != nil {
		return err
	}
	seq := uuid.New()
	res, err := s.execute(c, "start_email_sequence", id, body, func(at time.Time) domain.Command {
		return domain.StartEmailSequence{SequenceID: seq, NextSendAt: next, At: at}
	})
	if err != nil {
		return err
	}
	if res.Replayed && len(res.Placement.Sequences) > 0 {
		seq = res.Placement.Sequences[len(res.Placement.Sequences)-1].ID
	}
	return c.JSON(http.StatusCreated, map[string]any{"sequenceId": seq})
}

type callRequest struct {
	ScheduledAt string `json:"scheduledAt"`
}

func (s *Server) scheduleCall(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r callRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	when, err := parseTime(r.ScheduledAt, "scheduledAt")
	if err != nil {
		return err
	}
	call := uuid.New()
	res, err := s.execute(c, "schedule_call", id, body, func(at time.Time) domain.Command {
		return domain.ScheduleCall{CallID: call, ScheduledAt: when, At: at}
	})
	if err != nil {
		return err
	}
	if res.Replayed && len(res.Placement.Calls) > 0 {
		call = res.Placement.Calls[len(res.Placement.Calls)-1].ID
	}
	return c.JSON(http.StatusCreated, map[string]any{"callId": call})
}

func (s *Server) dialCall(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	call, err := pathUUID(c, "callId")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if empty, err := emptyOrEmptyObject(body); err != nil {
		return err
	} else if !empty {
		return newError(http.StatusBadRequest, "unexpected_body", "dialing a call takes no body")
	}
	res, err := s.execute(c, "dial_call", id, body, func(at time.Time) domain.Command { return domain.DialCall{CallID: call, At: at} })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projections.Render(res.Placement, res.Revision))
}

type completeRequest struct {
	Outcome string `json:"outcome"`
}

func (s *Server) completeCall(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	call, err := pathUUID(c, "callId")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r completeRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	res, err := s.execute(c, "complete_call", id, body, func(at time.Time) domain.Command {
		return domain.CompleteCall{CallID: call, Outcome: r.Outcome, At: at}
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, projections.Render(res.Placement, res.Revision))
}
