package http

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
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
	// MaxSessionsPerCreditor bounds one creditor's signed-in sessions: a
	// sign-in beyond it ends that creditor's oldest session, so sign-ins
	// cannot grow the server's memory without bound.
	MaxSessionsPerCreditor = 16
	// sessionSweepEvery is how often expired sessions are forgotten, while
	// any are held.
	sessionSweepEvery = 5 * time.Minute
)

type session struct {
	creditor string
	csrf     string
	expires  time.Time
	// notice and err are shown once, on the next page this session renders
	// (messages never travel in URLs, where anyone could write them).
	notice, err string
}

// sessions are the dashboard's signed-in sessions, at most
// MaxSessionsPerCreditor per creditor. Expired ones are refused at once and
// forgotten by a sweep on a timer, which runs only while sessions are held;
// no sign-in walks the whole map.
type sessions struct {
	mu sync.Mutex
	m  map[string]session
	// byCreditor lists each creditor's session ids, oldest first.
	byCreditor map[string][]string
	now        func() time.Time
	sweeper    *time.Timer
}

func newSessions() *sessions {
	return &sessions{m: map[string]session{}, byCreditor: map[string][]string{}, now: time.Now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (ss *sessions) create(creditor string) (string, session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	id, s := randomToken(), session{creditor: creditor, csrf: randomToken(), expires: ss.now().Add(sessionTTL)}
	ss.m[id] = s
	ids := append(ss.byCreditor[creditor], id)
	for len(ids) > MaxSessionsPerCreditor { // the oldest session ends
		delete(ss.m, ids[0])
		ids = ids[1:]
	}
	ss.byCreditor[creditor] = slices.Clip(ids)
	if ss.sweeper == nil {
		ss.sweeper = time.AfterFunc(sessionSweepEvery, ss.sweepTick)
	}
	return id, s
}

// remove forgets a session; the caller holds the lock.
func (ss *sessions) remove(id string) {
	s, ok := ss.m[id]
	if !ok {
		return
	}
	delete(ss.m, id)
	ids := slices.DeleteFunc(ss.byCreditor[s.creditor], func(x string) bool { return x == id })
	if len(ids) == 0 {
		delete(ss.byCreditor, s.creditor)
		return
	}
	ss.byCreditor[s.creditor] = ids
}

// sweep forgets the sessions expired at now.
func (ss *sessions) sweep(now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.m {
		if now.After(s.expires) {
			ss.remove(id)
		}
	}
}

// sweepTick is the timer's sweep; it re-arms while sessions are held.
func (ss *sessions) sweepTick() {
	ss.sweep(ss.now())
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) > 0 {
		ss.sweeper.Reset(sessionSweepEvery)
		return
	}
	ss.sweeper = nil
}

// count is how many sessions are held.
func (ss *sessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

func (ss *sessions) get(id string) (session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok || ss.now().After(s.expires) {
		ss.remove(id)
		return session{}, false
	}
	return s, true
}

// flash keeps a message for the session's next page.
func (ss *sessions) flash(id, notice, err string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[id]; ok {
		s.notice, s.err = notice, err
		ss.m[id] = s
	}
}

// takeFlash returns and forgets the session's messages.
func (ss *sessions) takeFlash(id string) (notice, err string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return "", ""
	}
	notice, err = s.notice, s.err
	s.notice, s.err = "", ""
	ss.m[id] = s
	return notice, err
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.remove(id)
}

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "list", "detail", "finance", "trialbalance"} {
		out[name] = template.Must(template.ParseFS(templateFS, "web/templates/layout.html", "web/templates/"+name+".html"))
	}
	return out
}()

// page is what every page template gets.
type page struct {
	Title, Creditor, CSRF, Notice, Error string
	Status                               string
	Statuses                             []domain.Status
	Items                                []projections.PlacementResource
	Next                                 string
	Placement                            projections.PlacementResource
	Feed                                 []feedRow
	Audit                                []projections.AuditItem
	NextFeed, NextHistory                string // the placement page's links to the next feed items and events
	Postings                             []postingRow
	NextPostings                         string // the placement page's link to the next postings
	Figures                              []claimFigure
	Payments                             []paymentRow
	Invoices                             []invoiceRow
	Search                               string
	Finance                              *financePage
	Trial                                *trialPage
	Debtor                               *debtorView
	Plans                                []PlanResource
}

// debtorView is the debtor's personal data on the placement page.
type debtorView struct {
	Status string
	Fields []debtorField
}

type debtorField struct{ Name, Value string }

// paymentRow is a payment on the placement page, with its reversal.
type paymentRow struct {
	Number, Amount, Document, Reversal string
}

// invoiceRow is an invoice in the partial-recall form.
type invoiceRow struct {
	Number, Contract, Open string
}

type feedRow struct {
	SortNumber         uint64
	Date, Type, Detail string
	Amount             string
}

// humanMessages says what a refusal means, for people.
var humanMessages = map[string]string{
	"placement_closed":           "This placement is already closed (recalled, paid or written off), so it cannot be changed.",
	"amount_exceeds_outstanding": "That amount is more than what is still owed on this placement.",
	"already_paused":             "This placement is already paused.",
	"not_paused":                 "This placement is not paused.",
	"placement_paused":           "This placement is paused.",
	"not_found":                  "That placement could not be found.",
	"payment_not_found":          "That payment could not be found on this placement.",
	"payment_already_reversed":   "That payment was reversed already, for another reason.",
	"amount_exceeds_open":        "That is more than is still open on the invoice.",
	"future_value_date":          "That date is after today: money cannot have moved in the future.",
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

// Limits on the dashboard's forms, which anyone can post to.
const (
	// MaxFormBytes bounds every dashboard form body: the largest, a bulk
	// action on one page of placements, is about 1 KiB.
	MaxFormBytes = 8 << 10
	// MaxDashboardBulk bounds the placements of one dashboard bulk action.
	MaxDashboardBulk = 100
)

// signedOutCodes are the only messages a URL can ask the sign-in page to
// show (there is no session to carry them): codes, never text.
var signedOutCodes = map[string]string{
	"signed_out":  "You are signed out.",
	"session_end": "Your session has ended; please sign in again.",
}

func (s *Server) registerDashboard() {
	static, _ := fs.Sub(staticFS, "web/static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(noDirectories{static})))
	s.GET("/static/*", echo.WrapHandler(files), s.boundAnonymous)
	s.GET("/", s.dashList, s.boundAnonymous)
	s.GET("/dashboard/placements/:id", s.dashPlacement, s.boundAnonymous)
	s.GET("/dashboard/finance", s.dashFinance, s.boundAnonymous)
	s.GET("/dashboard/finance.csv", s.dashFinanceCSV, s.boundAnonymous)
	s.GET("/dashboard/trial-balance", s.dashTrialBalance, s.boundAnonymous)
	s.GET("/dashboard/trial-balance.csv", s.dashTrialBalanceCSV, s.boundAnonymous)
	form := []echo.MiddlewareFunc{s.boundAnonymous, s.formGuard}
	s.POST("/signin", s.signin, s.boundAnonymous, s.limitSignIns, s.formGuard)
	s.POST("/signout", s.signout, form...)
	s.POST("/dashboard/bulk", s.dashBulk, form...)
	s.POST("/dashboard/placements/:id/:action", s.dashAction, form...)
}

// noDirectories serves files only: a directory (with or without its
// index) is not found, so /static/ lists nothing.
type noDirectories struct{ fs.FS }

func (n noDirectories) Open(name string) (fs.File, error) {
	f, err := n.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		_ = f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}

// boundAnonymous bounds the requests in flight that no API key vouches for
// (the dashboard, its sign-in and static files): past the bound, 429.
func (s *Server) boundAnonymous(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.anonymous.Add(1) > s.maxAnonymous {
			s.anonymous.Add(-1)
			c.Response().Header().Set("Retry-After", "1")
			return newError(http.StatusTooManyRequests, "too_many_requests", "the dashboard is busy; try again in a moment")
		}
		defer s.anonymous.Add(-1)
		return next(c)
	}
}

// limitSignIns answers 429, with Retry-After, to a client address that has
// spent its sign-in attempts (see SignInBurst), before the form is read.
func (s *Server) limitSignIns(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, wait := s.signIns.take(clientAddress(c.Request().RemoteAddr)); !ok {
			c.Response().Header().Set("Retry-After", retryAfter(wait))
			return s.render(c, http.StatusTooManyRequests, "signin", page{Title: "Sign in",
				Error: "Too many sign-in attempts from your address; please wait a minute and try again."})
		}
		return next(c)
	}
}

// formGuard checks a dashboard form post before anything reads it: it
// must come from the dashboard's own origin (no login CSRF, no cross-site
// posts), be URL-encoded (no multipart, which would spool uploads to disk)
// and fit in MaxFormBytes. The form is then parsed from the body only:
// fields in the query string are ignored.
func (s *Server) formGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !s.sameOrigin(r) {
			return newError(http.StatusForbidden, "cross_origin", "dashboard forms are accepted only from the dashboard's own pages")
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "application/x-www-form-urlencoded" {
			return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "dashboard forms must be application/x-www-form-urlencoded")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return newError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("a dashboard form is at most %d bytes", MaxFormBytes))
			}
			return newError(http.StatusBadRequest, "malformed_form", "the form could not be read")
		}
		return next(c)
	}
}

// sameOrigin reports whether a browser's form post comes from this
// server's own pages. Browsers say so in Sec-Fetch-Site, or else in Origin;
// a client that sends neither is not a browser and cannot be a victim of
// cross-site forgery. The origin is the public URL when one is configured,
// else the Host the request was sent to.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null", sent by sandboxed and privacy-sensitive contexts
	}
	if s.publicURL != nil {
		return strings.EqualFold(u.Scheme, s.publicURL.Scheme) && strings.EqualFold(u.Host, s.publicURL.Host)
	}
	return strings.EqualFold(u.Host, r.Host)
}

func (s *Server) render(c echo.Context, status int, name string, p page) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", personalCacheControl) // a placement's page shows its debtor
	h.Set(echo.HeaderContentType, "text/html; charset=utf-8")
	c.Response().WriteHeader(status)
	return pages[name].ExecuteTemplate(c.Response(), "layout", p)
}

// current returns the signed-in session, if any, and its id.
func (s *Server) current(c echo.Context) (string, session, bool) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return "", session{}, false
	}
	sess, ok := s.sessions.get(ck.Value)
	return ck.Value, sess, ok
}

// postSession checks a form post's session and its CSRF token (from the
// form body; formGuard parsed it).
func (s *Server) postSession(c echo.Context) (string, session, error) {
	id, sess, ok := s.current(c)
	if !ok {
		return "", session{}, newError(http.StatusUnauthorized, "signed_out", "your session has ended; please sign in again")
	}
	if subtle.ConstantTimeCompare([]byte(c.Request().PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
		return "", session{}, newError(http.StatusForbidden, "csrf", "the form is out of date; please reload the page and try again")
	}
	return id, sess, nil
}

// refuseForm answers a form post that failed its session or CSRF check.
func (s *Server) refuseForm(c echo.Context, sessID string, err error) error {
	if sessID == "" {
		if _, _, ok := s.current(c); !ok {
			return c.Redirect(http.StatusSeeOther, "/?error=session_end")
		}
		sessID, _, _ = s.current(c)
	}
	s.sessions.flash(sessID, "", humanize(err))
	return c.Redirect(http.StatusSeeOther, "/")
}

// done redirects to path, showing notice or err there once.
func (s *Server) done(c echo.Context, sessID, path, notice, err string) error {
	s.sessions.flash(sessID, notice, err)
	return c.Redirect(http.StatusSeeOther, path)
}

// pageFor starts a page for the signed-in session, with its messages.
func (s *Server) pageFor(id string, sess session, title string) page {
	notice, err := s.sessions.takeFlash(id)
	return page{Title: title, Creditor: sess.creditor, CSRF: sess.csrf, Notice: notice, Error: err}
}

func (s *Server) signin(c echo.Context) error {
	p, ok := s.keys.identify(strings.TrimSpace(c.Request().PostForm.Get("key")))
	if !ok || p.kind != journal.ActorCreditor {
		return s.render(c, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: "That key is not a creditor key this ledger knows."})
	}
	id, _ := s.sessions.create(p.id)
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secureCookies(c), MaxAge: int(sessionTTL.Seconds())})
	return c.Redirect(http.StatusSeeOther, "/")
}

// secureCookies: the session cookie is Secure when the dashboard is served
// over TLS, directly or (as LEDGER_PUBLIC_URL says) behind a proxy that
// terminates it.
func (s *Server) secureCookies(c echo.Context) bool {
	return c.Request().TLS != nil || (s.publicURL != nil && s.publicURL.Scheme == "https")
}

func (s *Server) signout(c echo.Context) error {
	id, _, err := s.postSession(c)
	if err != nil {
		return s.refuseForm(c, "", err)
	}
	s.sessions.drop(id)
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secureCookies(c), MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/?notice=signed_out")
}

func (s *Server) dashList(c echo.Context) error {
	sessID, sess, ok := s.current(c)
	if !ok {
		return s.render(c, http.StatusOK, "signin", page{Title: "Sign in",
			Notice: signedOutCodes[c.QueryParam("notice")], Error: signedOutCodes[c.QueryParam("error")]})
	}
	status, known := domain.ParseStatus(c.QueryParam("status"))
	if !known {
		status = "" // an unknown status lists them all
	}
	after, _ := projections.ParseListCursor(c.QueryParam("cursor"))
	search := strings.TrimSpace(c.QueryParam("q"))
	var raw []json.RawMessage
	var next *projections.ListCursor
	var err error
	if search != "" {
		raw, err = s.dashSearch(sess.creditor, search)
	} else {
		raw, next, err = s.runner.Views.List(sess.creditor, status, after, 25)
	}
	if err != nil {
		return err
	}
	p := s.pageFor(sessID, sess, "Placements")
	p.Status, p.Search = string(status), search
	p.Statuses = domain.Statuses()
	for _, r := range raw {
		var item projections.PlacementResource
		if err := json.Unmarshal(r, &item); err != nil {
			return err
		}
		p.Items = append(p.Items, item)
	}
	if next != nil {
		p.Next = next.String()
	}
	return s.render(c, http.StatusOK, "list", p)
}

// dashSearch finds the creditor's claims by claim, customer, invoice or
// contract number (the first 25 of each kind), each once.
func (s *Server) dashSearch(creditor, q string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	seen := map[uuid.UUID]bool{}
	add := func(raw json.RawMessage) error {
		var p struct {
			ID uuid.UUID `json:"placementId"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, raw)
		}
		return nil
	}
	if id, found, err := s.runner.Views.ClaimPlacement(creditor, q); err != nil {
		return nil, err
	} else if found {
		raw, _, ok, err := s.runner.Views.PlacementJSON(creditor, id)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := add(raw); err != nil {
				return nil, err
			}
		}
	}
	for _, kind := range []byte{projections.SearchCustomer, projections.SearchInvoice, projections.SearchContract} {
		raws, _, err := s.runner.Views.Search(creditor, kind, q, 0, 25)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			if err := add(raw); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Server) dashPlacement(c echo.Context) error {
	sessID, sess, ok := s.current(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return s.done(c, sessID, "/", "", humanMessages["not_found"])
	}
	err = s.waitFresh(c)
	pl, found, verr := s.runner.Views.PlacementResource(sess.creditor, id)
	if err == nil {
		err = verr
	}
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return s.done(c, sessID, "/", "", humanize(err))
	}
	feedFrom, historyFrom := dashFrom(c, "feedFrom"), dashFrom(c, "historyFrom")
	items, err := s.runner.Views.PlacementFeed(id, feedFrom, dashPageSize+1)
	if err != nil {
		return err
	}
	events, nextHistory, err := s.runner.AuditPage(c.Request().Context(), sess.creditor, id, projections.Cut{}, eventstore.Position(historyFrom), dashPageSize)
	if err != nil {
		return s.done(c, sessID, "/", "", humanize(err))
	}
	feed, nextFeed, err := feedRows(items, pl.Currency)
	if err != nil {
		return err
	}
	payments, err := s.runner.Views.Payments(id)
	if err != nil {
		return err
	}
	postingsFrom := dashFrom(c, "postingsFrom")
	postings, nextPostings, err := s.postingRows(sess.creditor, pl.ClaimNumber, postingsFrom)
	if err != nil {
		return err
	}
	p := s.pageFor(sessID, sess, "Claim "+pl.ClaimNumber)
	p.Placement, p.Feed, p.Audit, p.Postings, p.Figures = pl, feed, projections.AuditItems(events), postings, claimFigures(pl)
	if p.Plans, err = s.dashPlans(sess.creditor, id); err != nil {
		return err
	}
	// Each link keeps the other lists where they are.
	link := func(feed, history, postings uint64, anchor string) string {
		l := fmt.Sprintf("?feedFrom=%d&historyFrom=%d", feed, history)
		if postings != 0 {
			l += fmt.Sprintf("&postingsFrom=%d", postings)
		}
		return l + "#" + anchor
	}
	if nextFeed != nil {
		p.NextFeed = link(*nextFeed, historyFrom, postingsFrom, "feed-title")
	}
	if nextHistory != 0 {
		p.NextHistory = link(feedFrom, uint64(nextHistory), postingsFrom, "audit-title")
	}
	if nextPostings != 0 {
		p.NextPostings = link(feedFrom, historyFrom, nextPostings, "postings-title")
	}
	for _, pay := range payments {
		p.Payments = append(p.Payments, paymentRow{Number: pay.Number, Amount: domain.FormatMoney(pay.Payment.Amount, pl.Currency) + " " + pl.Currency,
			Document: pay.Payment.Document, Reversal: pay.Payment.Reversal})
	}
	for _, inv := range pl.Invoices {
		p.Invoices = append(p.Invoices, invoiceRow{Number: inv.InvoiceNumber, Contract: inv.ContractNumber, Open: inv.OpenAmount})
	}
	if err := s.dashDebtor(c, sess.creditor, pl, &p); err != nil {
		p.Error = humanize(err)
	}
	return s.render(c, http.StatusOK, "detail", p)
}

// dashDebtor puts the debtor's personal data, if any, on the placement page
// p (reading it is recorded in the access log).
func (s *Server) dashDebtor(c echo.Context, creditor string, pl projections.PlacementResource, p *page) error {
	cust, err := s.openCustomerFor(c, creditor, journal.ActorCreditor, Claim{PlacementID: pl.PlacementID, ClaimNumber: pl.ClaimNumber,
		CustomerNumber: pl.CustomerNumber}, "dashboard /dashboard/placements/{id}")
	if err != nil {
		return err
	}
	if cust.PersonalDataStatus != PersonalNone {
		p.Debtor = &debtorView{Status: cust.PersonalDataStatus}
		var fields map[string]json.RawMessage
		if json.Unmarshal(cust.PersonalData, &fields) == nil {
			for _, name := range []string{"type", "salutation", "title", "firstName", "middleName", "lastName", "companyName", "dateOfBirth",
				"preferredLanguage", "addresses", "communicationChannels", "bankAccounts"} {
				if raw, ok := fields[name]; ok {
					var text string
					if json.Unmarshal(raw, &text) != nil {
						text = string(raw)
					}
					p.Debtor.Fields = append(p.Debtor.Fields, debtorField{Name: name, Value: text})
				}
			}
		}
	}
	return nil
}

// dashPageSize is how many feed items, history events and postings the placement page
// shows at a time; a link leads to the next ones.
const dashPageSize = 100

// dashFrom reads the placement page's ?feedFrom=, ?historyFrom= or ?postingsFrom=; anything
// but a whole number is the start.
func dashFrom(c echo.Context, name string) uint64 {
	n, err := strconv.ParseUint(c.QueryParam(name), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// feedRows renders up to dashPageSize feed items of a placement for its
// page; next is the sortNumber of the first one left for the next page.
func feedRows(items []json.RawMessage, currency string) (feed []feedRow, next *uint64, err error) {
	if len(items) > dashPageSize {
		var it projections.FeedItem
		if err := json.Unmarshal(items[dashPageSize], &it); err != nil {
			return nil, nil, err
		}
		next, items = &it.SortNumber, items[:dashPageSize]
	}
	for _, raw := range items {
		var it projections.FeedItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, nil, err
		}
		row := feedRow{SortNumber: it.SortNumber, Type: it.Type}
		switch {
		case it.Confirmation != nil:
			row.Date, row.Detail, row.Amount = it.Confirmation.Date, it.Confirmation.Type, money(it.Confirmation.Amount, currency)
		case it.Closing != nil:
			row.Date, row.Detail = it.Closing.Date, it.Closing.Type
		case it.Rejection != nil:
			row.Date, row.Detail = it.Rejection.Date, it.Rejection.Description
		case it.AccountingDocument != nil:
			row.Date, row.Detail, row.Amount = it.AccountingDocument.Date, it.AccountingDocument.Type+" "+it.AccountingDocument.Number,
				money(it.AccountingDocument.Amount, currency)
			if it.AccountingDocument.OriginalNumber != "" {
				row.Detail += " (reverses " + it.AccountingDocument.OriginalNumber + ")"
			}
		case it.Status != nil:
			row.Date, row.Detail = it.Status.Date, strings.TrimSpace(it.Status.Type+" "+it.Status.Reason)
		}
		feed = append(feed, row)
	}
	return feed, next, nil
}

func money(e projections.Exact, currency string) string {
	b, _ := e.MarshalJSON()
	return string(b) + " " + currency
}

// dashAction runs recall, pay, pause or resume from the placement page.
func (s *Server) dashAction(c echo.Context) error {
	sessID, sess, err := s.postSession(c)
	if err != nil {
		return s.refuseForm(c, "", err)
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return s.done(c, sessID, "/", "", humanMessages["not_found"])
	}
	back := "/dashboard/placements/" + id.String()
	form := c.Request().PostForm
	if c.Param("action") == "erase" {
		return s.dashErase(c, sessID, sess, id, back)
	}
	var build func(at time.Time) domain.Command
	var done string
	switch c.Param("action") {
	case "recall":
		build, done = func(at time.Time) domain.Command { return domain.Recall{At: at} }, "The placement is recalled. All collection has stopped."
	case "pay":
		amount, err := domain.ParseAmount([]byte(strings.TrimSpace(form.Get("amount"))), "", "amount")
		if err != nil {
			return s.done(c, sessID, back, "", humanize(err))
		}
		build, done = func(at time.Time) domain.Command { return domain.ReceivePayment{Amount: amount, At: at} }, "The payment is recorded."
	case "pause":
		var resumeAt *time.Time
		if raw := form.Get("resumeAt"); raw != "" {
			t, ok := domain.ParseDate(raw)
			if !ok {
				return s.done(c, sessID, back, "", "Please check the resume date.")
			}
			resumeAt = &t
		}
		reason := form.Get("reason")
		build, done = func(at time.Time) domain.Command { return domain.Pause{Reason: reason, ResumeAt: resumeAt, At: at} }, "The placement is paused."
	case "resume":
		build, done = func(at time.Time) domain.Command { return domain.Resume{At: at} }, "The placement is resumed."
	case "reverse":
		number, reason := form.Get("payment"), form.Get("reason")
		build, done = func(at time.Time) domain.Command {
			return domain.ReversePayment{PaymentNumber: number, Reason: reason, At: at}
		}, "The payment "+number+" is reversed."
	case "waive":
		waivers, err := formWaivers(form)
		if err != nil {
			return s.done(c, sessID, back, "", humanize(err))
		}
		build, done = func(at time.Time) domain.Command {
			for i := range waivers {
				waivers[i].Date = at.UTC().Format(time.DateOnly)
			}
			return domain.PartialRecall{Waivers: waivers, At: at}
		}, fmt.Sprintf("%d invoice(s) partly recalled.", len(waivers))
	case "plan", "cancel-plan":
		if build, done, err = dashPlanCommand(c.Param("action"), form); err != nil {
			return s.done(c, sessID, back, "", humanize(err))
		}
	default:
		return s.done(c, sessID, back, "", "That action is not known.")
	}
	res, err := s.dashCommand(c, dashCommandNames[c.Param("action")], id, sess, requestID(c), build)
	s.setPosition(c, res, err)
	// The page reads the views: let them catch up with what was just done.
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	_ = s.runner.WaitFor(ctx, res.Position)
	cancel()
	if err != nil {
		return s.done(c, sessID, back, "", humanize(err))
	}
	return s.done(c, sessID, back, done, "")
}

// dashCommandNames name the dashboard's actions as the metrics name the
// API's commands.
var dashCommandNames = map[string]string{"recall": "recall", "pay": "payment_received", "pause": "pause", "resume": "resume",
	"reverse": "reverse_payment", "waive": "partial_recall", "plan": "agree_payment_plan", "cancel-plan": "cancel_payment_plan"}

// dashCommand runs one command of the signed-in creditor's on placement id
// (see run): the dashboard's forms carry no Idempotency-Key.
func (s *Server) dashCommand(c echo.Context, name string, id uuid.UUID, sess session, reqID string, build func(at time.Time) domain.Command) (command.Result, error) {
	req := command.Request{Actor: sess.creditor, ActorType: journal.ActorCreditor, RequestID: reqID, Creditor: sess.creditor}
	return s.run(name, func() (command.Result, error) { return s.commands.Execute(c.Request().Context(), id, req, build) })
}

// dashErase erases the personal data of the placement's debtor (every claim
// of that customer number, for this creditor), as DELETE
// /v1/debtors/{customerNumber}/personal-data does.
func (s *Server) dashErase(c echo.Context, sessID string, sess session, id uuid.UUID, back string) error {
	pl, found, err := s.runner.Views.PlacementResource(sess.creditor, id)
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return s.done(c, sessID, back, "", humanize(err))
	}
	if s.personal == nil {
		return s.done(c, sessID, back, "", "This ledger runs without a master key: it holds no personal data to erase.")
	}
	start := time.Now()
	_, err = s.commands.Erase(c.Request().Context(), sess.creditor, pl.CustomerNumber,
		sess.creditor, journal.ActorCreditor, journal.ErasureDataSubjectRequest)
	s.observe("erase_personal_data", start, err, false)
	if err != nil {
		s.logger.Error("erasing personal data failed", "err", err.Error())
		return s.done(c, sessID, back, "", "The personal data could not be erased right now. Nothing was changed; please try again.")
	}
	return s.done(c, sessID, back, "The personal data of customer "+pl.CustomerNumber+" is erased. Amounts and history are kept.", "")
}

// formWaivers reads the partial-recall form: for each invoice (fields
// invoice, contract, amount, in step) an amount to waive, blank for none;
// one description for all.
func formWaivers(form url.Values) ([]domain.Waiver, error) {
	invoices, contracts, amounts := form["invoice"], form["contract"], form["amount"]
	if len(invoices) != len(amounts) || len(invoices) != len(contracts) || len(invoices) > domain.MaxWaivers {
		return nil, domain.Invalid(domain.FieldError{Field: "amount", Message: "does not match the invoices"})
	}
	currency, description := form.Get("currency"), strings.TrimSpace(form.Get("description"))
	var out []domain.Waiver
	for i, raw := range amounts {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		amount, err := domain.ParseAmount([]byte(strings.TrimSpace(raw)), currency, "the amount for invoice "+invoices[i])
		if err != nil {
			return nil, err
		}
		out = append(out, domain.Waiver{InvoiceNumber: invoices[i], ContractNumber: contracts[i], Amount: amount, Currency: currency,
			Description: description})
	}
	if len(out) == 0 {
		return nil, domain.Invalid(domain.FieldError{Field: "amount", Message: "needs an amount for at least one invoice"})
	}
	return out, nil
}

// dashBulk recalls or pauses the selected placements, each on its own.
func (s *Server) dashBulk(c echo.Context) error {
	sessID, sess, err := s.postSession(c)
	if err != nil {
		return s.refuseForm(c, "", err)
	}
	form := c.Request().PostForm
	ids := form["id"]
	if len(ids) == 0 {
		return s.done(c, sessID, "/", "", "Select at least one placement first.")
	}
	if len(ids) > MaxDashboardBulk {
		return s.done(c, sessID, "/", "", fmt.Sprintf("Select at most %d placements at a time.", MaxDashboardBulk))
	}
	action, reason := form.Get("action"), form.Get("reason")
	var build func(at time.Time) domain.Command
	verb := ""
	switch action {
	case "recall":
		build, verb = func(at time.Time) domain.Command { return domain.Recall{At: at} }, "recalled"
	case "pause":
		build, verb = func(at time.Time) domain.Command { return domain.Pause{Reason: reason, At: at} }, "paused"
	default:
		return s.done(c, sessID, "/", "", "That action is not known.")
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
		res, err := s.dashCommand(c, action, id, sess, uuid.NewString(), build)
		if err != nil {
			name := "one selection"
			if p, ok, _ := s.runner.Views.PlacementResource(sess.creditor, id); ok {
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
	notice, problem := fmt.Sprintf("%d placement(s) %s.", okCount, verb), ""
	if len(problems) > 0 {
		problem = fmt.Sprintf("%d could not be %s: %s.", len(problems), verb, strings.Join(problems, "; "))
	}
	return s.done(c, sessID, "/", notice, problem)
}
