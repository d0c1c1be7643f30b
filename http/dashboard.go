package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// The dashboard for creditor staff: server-rendered html/template pages with
// a little plain JavaScript (confirmations, the fee preview, local dates).
// Forms post to the same command handler as the API. Sign-in takes the
// creditor's API key and keeps it out of the browser: the browser holds a
// random session id in an HttpOnly, SameSite=Strict cookie; every form post
// carries the session's CSRF token.

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

const (
	sessionCookie = "ledger_session"
	sessionTTL    = 8 * time.Hour
)

type session struct {
	creditor string
	csrf     string
	expires  time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (ss *sessions) create(creditor string) (string, session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := time.Now()
	for id, s := range ss.m { // drop expired sessions on the way
		if now.After(s.expires) {
			delete(ss.m, id)
		}
	}
	id, s := randomToken(), session{creditor: creditor, csrf: randomToken(), expires: now.Add(sessionTTL)}
	ss.m[id] = s
	return id, s
}

func (ss *sessions) get(id string) (session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok || time.Now().After(s.expires) {
		delete(ss.m, id)
		return session{}, false
	}
	return s, true
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "list", "detail"} {
		out[name] = template.Must(template.ParseFS(templateFS, "web/templates/layout.html", "web/templates/"+name+".html"))
	}
	return out
}()

// page is what every page template gets.
type page struct {
	Title, Creditor, CSRF, Notice, Error string
	Status                               string
	Statuses                             []domain.Status
	Items                                []projections.Placement
	Next                                 string
	Placement                            projections.Placement
	Feed                                 []feedRow
	Audit                                []projections.AuditItem
}

type feedRow struct {
	SortNumber         uint64
	Date, Type, Detail string
	Amount             string
}

// humanMessages says what a refusal means, for people.
var humanMessages = map[string]string{
	"placement_closed":           "This placement is already closed (recalled or paid), so it cannot be changed.",
	"amount_exceeds_outstanding": "That amount is more than what is still owed on this placement.",
	"already_paused":             "This placement is already paused.",
	"not_paused":                 "This placement is not paused.",
	"placement_paused":           "This placement is paused.",
	"not_found":                  "That placement could not be found.",
	"precondition_failed":        "Someone changed this placement meanwhile; please look again and retry.",
	"store_unavailable":          "The ledger cannot record this right now. Nothing was changed; please try again in a moment.",
	"too_much_contention":        "The ledger is busy with this placement. Nothing was changed; please try again.",
}

// humanize turns an error into a sentence for people.
func humanize(err error) string {
	p, _ := problemFor(err)
	if msg, ok := humanMessages[p.Code]; ok {
		return msg
	}
	if p.Code == "validation_failed" && len(p.Errors) > 0 {
		return fmt.Sprintf("Please check %s: it %s.", p.Errors[0].Field, p.Errors[0].Message)
	}
	if p.Status >= 500 {
		return "Something went wrong on our side. Nothing was changed; please try again."
	}
	return p.Detail
}

func (s *Server) registerDashboard() {
	static, _ := fs.Sub(staticFS, "web/static")
	s.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	s.GET("/", s.dashList)
	s.POST("/signin", s.signin)
	s.POST("/signout", s.signout)
	s.POST("/dashboard/bulk", s.dashBulk)
	s.GET("/dashboard/placements/:id", s.dashPlacement)
	s.POST("/dashboard/placements/:id/:action", s.dashAction)
}

func (s *Server) render(c echo.Context, status int, name string, p page) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentType, "text/html; charset=utf-8")
	c.Response().WriteHeader(status)
	if p.Notice == "" {
		p.Notice = c.QueryParam("notice")
	}
	if p.Error == "" {
		p.Error = c.QueryParam("error")
	}
	return pages[name].ExecuteTemplate(c.Response(), "layout", p)
}

// current returns the signed-in session, if any.
func (s *Server) current(c echo.Context) (string, session, bool) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return "", session{}, false
	}
	sess, ok := s.sessions.get(ck.Value)
	return ck.Value, sess, ok
}

// postSession checks a form post's session and CSRF token.
func (s *Server) postSession(c echo.Context) (session, error) {
	_, sess, ok := s.current(c)
	if !ok {
		return session{}, newError(http.StatusUnauthorized, "signed_out", "your session has ended; please sign in again")
	}
	if subtle.ConstantTimeCompare([]byte(c.FormValue("csrf")), []byte(sess.csrf)) != 1 {
		return session{}, newError(http.StatusForbidden, "csrf", "the form is out of date; please reload the page and try again")
	}
	return sess, nil
}

func redirect(c echo.Context, path, key, msg string) error {
	if msg != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + key + "=" + url.QueryEscape(msg)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

func (s *Server) signin(c echo.Context) error {
	p, ok := s.keys.identify(strings.TrimSpace(c.FormValue("key")))
	if !ok || p.kind != command.ActorCreditor {
		return s.render(c, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: "That key is not a creditor key this ledger knows."})
	}
	id, _ := s.sessions.create(p.id)
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request().TLS != nil, MaxAge: int(sessionTTL.Seconds())})
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) signout(c echo.Context) error {
	if _, err := s.postSession(c); err != nil {
		return redirect(c, "/", "error", humanize(err))
	}
	id, _, _ := s.current(c)
	s.sessions.drop(id)
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return redirect(c, "/", "notice", "You are signed out.")
}

func (s *Server) dashList(c echo.Context) error {
	_, sess, ok := s.current(c)
	if !ok {
		return s.render(c, http.StatusOK, "signin", page{Title: "Sign in"})
	}
	status := domain.Status(c.QueryParam("status"))
	switch status {
	case "", domain.StatusActive, domain.StatusPaused, domain.StatusRecalled, domain.StatusPaid:
	default:
		status = ""
	}
	from := 0
	if cur := c.QueryParam("cursor"); cur != "" {
		if b, err := base64.RawURLEncoding.DecodeString(cur); err == nil {
			from, _ = strconv.Atoi(string(b))
		}
	}
	items, next := s.runner.Placements.List(sess.creditor, status, from, 25)
	p := page{Title: "Placements", Creditor: sess.creditor, CSRF: sess.csrf, Status: string(status), Items: items,
		Statuses: []domain.Status{domain.StatusActive, domain.StatusPaused, domain.StatusRecalled, domain.StatusPaid}}
	if next >= 0 {
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(next)))
	}
	return s.render(c, http.StatusOK, "list", p)
}

func (s *Server) dashPlacement(c echo.Context) error {
	_, sess, ok := s.current(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return redirect(c, "/", "error", humanMessages["not_found"])
	}
	events, err := projections.ReadPlacement(c.Request().Context(), s.store, id)
	if err == nil && projections.CreditorOf(events) != sess.creditor {
		err = domain.ErrNotFound
	}
	if err != nil {
		return redirect(c, "/", "error", humanize(err))
	}
	p, _ := projections.RenderEvents(events)
	var feed []feedRow
	for _, it := range projections.FeedItems(events) {
		row := feedRow{SortNumber: it.SortNumber, Type: it.Type}
		switch {
		case it.Confirmation != nil:
			row.Date, row.Detail, row.Amount = it.Confirmation.Date, it.Confirmation.Type, money(it.Confirmation.Amount, p.Currency)
		case it.Closing != nil:
			row.Date, row.Detail = it.Closing.Date, it.Closing.Type
		case it.Rejection != nil:
			row.Date, row.Detail = it.Rejection.Date, it.Rejection.Description
		case it.AccountingDocument != nil:
			row.Date, row.Detail, row.Amount = it.AccountingDocument.Date, it.AccountingDocument.Type+" "+it.AccountingDocument.Number,
				money(it.AccountingDocument.Amount, p.Currency)
		}
		feed = append(feed, row)
	}
	return s.render(c, http.StatusOK, "detail", page{Title: "Claim " + p.ClaimNumber, Creditor: sess.creditor, CSRF: sess.csrf,
		Placement: p, Feed: feed, Audit: projections.AuditItems(events)})
}

func money(e projections.Exact, currency string) string {
	b, _ := e.MarshalJSON()
	return string(b) + " " + currency
}

// dashAction runs recall, pay, pause or resume from the placement page.
func (s *Server) dashAction(c echo.Context) error {
	sess, err := s.postSession(c)
	if err != nil {
		return redirect(c, "/", "error", humanize(err))
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return redirect(c, "/", "error", humanMessages["not_found"])
	}
	back := "/dashboard/placements/" + id.String()
	var build func(at time.Time) domain.Command
	var done string
	switch c.Param("action") {
	case "recall":
		build, done = func(at time.Time) domain.Command { return domain.Recall{At: at} }, "The placement is recalled. All collection has stopped."
	case "pay":
		amount, err := domain.ParseAmount([]byte(strings.TrimSpace(c.FormValue("amount"))), "", "amount")
		if err != nil {
			return redirect(c, back, "error", humanize(err))
		}
		build, done = func(at time.Time) domain.Command { return domain.ReceivePayment{Amount: amount, At: at} }, "The payment is recorded."
	case "pause":
		var resumeAt *time.Time
		if raw := c.FormValue("resumeAt"); raw != "" {
			t, ok := domain.ParseDate(raw)
			if !ok {
				return redirect(c, back, "error", "Please check the resume date.")
			}
			resumeAt = &t
		}
		reason := c.FormValue("reason")
		build, done = func(at time.Time) domain.Command { return domain.Pause{Reason: reason, ResumeAt: resumeAt, At: at} }, "The placement is paused."
	case "resume":
		build, done = func(at time.Time) domain.Command { return domain.Resume{At: at} }, "The placement is resumed."
	default:
		return redirect(c, back, "error", "That action is not known.")
	}
	req := command.Request{Actor: sess.creditor, ActorType: command.ActorCreditor, RequestID: requestID(c), Creditor: sess.creditor}
	res, err := s.commands.Execute(c.Request().Context(), id, req, build)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return redirect(c, back, "error", humanize(err))
	}
	return redirect(c, back, "notice", done)
}

// dashBulk recalls or pauses the selected placements, each on its own.
func (s *Server) dashBulk(c echo.Context) error {
	sess, err := s.postSession(c)
	if err != nil {
		return redirect(c, "/", "error", humanize(err))
	}
	form, err := c.FormParams()
	if err != nil {
		return redirect(c, "/", "error", "The form could not be read.")
	}
	ids := form["id"]
	if len(ids) == 0 {
		return redirect(c, "/", "error", "Select at least one placement first.")
	}
	if len(ids) > MaxBulk {
		return redirect(c, "/", "error", fmt.Sprintf("Select at most %d placements at a time.", MaxBulk))
	}
	action, reason := c.FormValue("action"), c.FormValue("reason")
	var build func(at time.Time) domain.Command
	verb := ""
	switch action {
	case "recall":
		build, verb = func(at time.Time) domain.Command { return domain.Recall{At: at} }, "recalled"
	case "pause":
		build, verb = func(at time.Time) domain.Command { return domain.Pause{Reason: reason, At: at} }, "paused"
	default:
		return redirect(c, "/", "error", "That action is not known.")
	}
	okCount := 0
	var problems []string
	var last eventstore.Position
	for _, raw := range ids {
		id, err := uuid.Parse(raw)
		if err != nil {
			problems = append(problems, "one selection was not a placement")
			continue
		}
		req := command.Request{Actor: sess.creditor, ActorType: command.ActorCreditor, RequestID: uuid.NewString(), Creditor: sess.creditor}
		res, err := s.commands.Execute(c.Request().Context(), id, req, build)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			name := raw
			if p, ok := s.runner.Placements.Get(id, sess.creditor); ok {
				name = "claim " + p.ClaimNumber
			}
			if errors.Is(err, domain.ErrNotFound) {
				problems = append(problems, name+": not found")
			} else {
				problems = append(problems, name+": "+strings.TrimSuffix(humanize(err), "."))
			}
			continue
		}
		okCount++
		last = max(last, res.Position)
	}
	// The list reads the read model: let it catch up with what was just done.
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	_ = s.runner.WaitFor(ctx, last)
	cancel()
	notice := fmt.Sprintf("%d placement(s) %s.", okCount, verb)
	if len(problems) > 0 {
		return c.Redirect(http.StatusSeeOther, "/?notice="+url.QueryEscape(notice)+"&error="+
			url.QueryEscape(fmt.Sprintf("%d could not be %s: %s.", len(problems), verb, strings.Join(problems, "; "))))
	}
	return redirect(c, "/", "notice", notice)
}
