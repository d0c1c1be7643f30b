package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

type pauseRequest struct {
	Reason   string  `json:"reason"`
	ResumeAt *string `json:"resumeAt"`
}

// parse turns a pause body into its resumeAt (nil when absent).
func (r pauseRequest) resumeAt() (*time.Time, error) {
	if r.ResumeAt == nil || *r.ResumeAt == "" {
		return nil, nil
	}
	t, err := parseTime(*r.ResumeAt, "resumeAt")
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Server) pausePlacement(c echo.Context) error {
	var r pauseRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	resumeAt, err := r.resumeAt()
	if err != nil {
		return err
	}
	res, err := s.execute(c, "pause", id, body, func(at time.Time) domain.Command {
		return domain.Pause{Reason: r.Reason, ResumeAt: resumeAt, At: at}
	})
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

func (s *Server) resumePlacement(c echo.Context) error {
	id, body, err := placementCommand(c, nil)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "resume", id, body, func(at time.Time) domain.Command { return domain.Resume{At: at} })
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}
