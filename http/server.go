package http

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
	"github.com/collections-ledger/ledger/webhook"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI document served at /openapi.yaml.
func OpenAPI() []byte { return openAPI }

// Config wires a server. Every change the server makes to the ledger is one
// call of a command.Handler method (Commands), through one wrapper (see
// Server.run); it reads through the projections (Runner) and what the
// handler knows of claim numbers and the log's head.
type Config struct {
	Commands *command.Handler
	Runner   *projections.Runner
	Keys     Keys
	Logger   *slog.Logger
	// Registry receives the server's metrics; nil means a new registry.
	Registry *prometheus.Registry
	// MinPositionWait bounds how long ?minPosition= waits; 0 means 5 s.
	MinPositionWait time.Duration
	// Webhooks is the running webhook reactor (for its deliveries list); nil
	// when none runs.
	Webhooks *webhook.Reactor
	// Verify checks the log and compares the running views with a rebuild,
	// for GET /v1/admin/verify; nil: the route answers 503.
	Verify func(ctx context.Context, live *projections.Views) (verify.Report, error)
	// MaxConcurrentPerKey bounds the requests one key may have in flight;
	// past it, 429. 0 means 256.
	MaxConcurrentPerKey int
	// MaxAnonymousInFlight bounds the dashboard requests in flight that no
	// API key vouches for (sign-in, pages, static files); past it, 429.
	// 0 means 64.
	MaxAnonymousInFlight int
	// WebhookPolicy says where webhooks may point (the reactor enforces the
	// same policy when it connects).
	WebhookPolicy webhook.Policy
	// PublicURL is where users reach the server (LEDGER_PUBLIC_URL), when a
	// proxy stands in front: its origin is the one dashboard forms must come
	// from, and https makes the session cookie Secure. nil: the request's
	// own Host and TLS decide.
	PublicURL *url.URL
}

// Server is the ledger's HTTP API.
type Server struct {
	*echo.Echo
	commands  *command.Handler
	runner    *projections.Runner
	keys      Keys
	logger    *slog.Logger
	metrics   *metrics
	registry  *prometheus.Registry
	minWait   time.Duration
	webhooks  *webhook.Reactor
	verify    func(ctx context.Context, live *projections.Views) (verify.Report, error)
	sessions  *sessions
	signIns   *signInLimiter
	inFlight  sync.Map // principal id -> *atomic.Int64
	maxPerKey int64
	// anonymous counts dashboard requests in flight without an API key.
	anonymous     atomic.Int64
	maxAnonymous  int64
	publicURL     *url.URL
	webhookPolicy webhook.Policy
	personal      pii.Keys
	// acknowledged is the highest log position a command's 2xx answer
	// carried (see acknowledge).
	acknowledged atomic.Uint64
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MinPositionWait == 0 {
		cfg.MinPositionWait = 5 * time.Second
	}
	s := &Server{
		Echo: echo.New(), commands: cfg.Commands, verify: cfg.Verify, runner: cfg.Runner, keys: cfg.Keys,
		logger: cfg.Logger, registry: cfg.Registry, minWait: cfg.MinPositionWait, webhooks: cfg.Webhooks,
		sessions: newSessions(), signIns: newSignInLimiter(), maxPerKey: int64(cfg.MaxConcurrentPerKey),
		maxAnonymous: int64(cfg.MaxAnonymousInFlight), publicURL: cfg.PublicURL, webhookPolicy: cfg.WebhookPolicy,
		personal: cfg.Commands.Personal, // the keys the handler seals and erases with open the creditor's reads
	}
	if s.maxPerKey <= 0 {
		s.maxPerKey = 256
	}
	if s.maxAnonymous <= 0 {
		s.maxAnonymous = 64
	}
	s.metrics = newMetrics(cfg.Registry, cfg.Runner)
	s.HideBanner, s.HidePort = true, true
	s.HTTPErrorHandler = s.errorHandler
	s.Pre(routeOnEscapedPath)
	s.Use(s.requestContext, unescapeParams)

	s.GET("/healthz", s.healthz)
	s.GET("/readyz", s.readyz)
	s.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	s.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", openAPI) })

	s.registerDashboard()
	s.registerV1()
	return s
}

// registerV1 registers the API's routes, each with its key check.
func (s *Server) registerV1() {
	// Authentication is attached to each route, not to a group: a group's
	// middleware would also run for every unknown /v1 path (echo registers a
	// catch-all for it), answering 401 or 403 where 404 or 405 is right.
	v1 := s.Group("/v1")
	// The query string is checked after the key: a request without a valid
	// key is 401 whatever it asks.
	checked := func(auth echo.MiddlewareFunc) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return auth(s.checkQuery(next)) }
	}
	cred, agency := checked(s.authenticate(journal.ActorCreditor)), checked(s.authenticate(journal.ActorAgency))
	v1.POST("/placements", s.place, cred)
	v1.GET("/placements", s.listPlacements, cred)
	v1.GET("/placements/:id", s.getPlacement, cred)
	v1.POST("/placements/:id/recall", s.recallPlacement, cred)
	v1.POST("/placements/:id/payment-received", s.paymentReceived, cred)
	v1.POST("/placements/:id/payments/:paymentNumber/reversal", s.reversePayment, cred)
	v1.POST("/claims/:claimNumber/payments/:paymentNumber/reversal", s.claimReversePayment, cred)
	v1.POST("/placements/:id/pause", s.pausePlacement, cred)
	v1.POST("/placements/:id/resume", s.resumePlacement, cred)
	v1.POST("/placements/bulk/recall", s.bulkRecall, cred)
	v1.POST("/placements/bulk/pause", s.bulkPause, cred)
	v1.GET("/placements/:id/audit", s.audit, cred)
	v1.POST("/claims", s.handOver, cred)
	v1.GET("/claims/search", s.searchClaims, cred)
	v1.GET("/claims/:claimNumber", s.getClaim, cred)
	v1.GET("/claims/:claimNumber/invoices", s.claimInvoices, cred)
	v1.POST("/claims/:claimNumber/payments", s.claimPayment, cred)
	v1.POST("/claims/:claimNumber/creditWaivers", s.claimCreditWaiver, cred)
	v1.PUT("/claims/:claimNumber/customer", s.changeContact, cred)
	v1.POST("/claims/:claimNumber/recalls", s.claimRecall, cred)
	v1.POST("/claims/:claimNumber/accountingDocuments/cancellations", s.claimCancellation, cred)
	v1.GET("/claims/:claimNumber/transactions", s.claimTransactions, cred)
	v1.GET("/transactions", s.transactions, cred)
	v1.GET("/reports/reconciliation", s.reconciliation, cred)
	v1.GET("/claims/:claimNumber/postings", s.claimPostings, cred)
	either := checked(s.authenticate(journal.ActorCreditor, journal.ActorAgency))
	v1.POST("/claims/:claimNumber/payment-plans", s.agreePaymentPlan, either)
	v1.GET("/claims/:claimNumber/payment-plans", s.paymentPlans, either)
	v1.POST("/claims/:claimNumber/payment-plans/:planNumber/cancellation", s.cancelPaymentPlan, either)
	v1.GET("/reports/trial-balance", s.trialBalance, checked(s.authenticate(journal.ActorCreditor, journal.ActorAgency)))
	v1.GET("/reports/remittances", s.remittances, checked(s.authenticate(journal.ActorCreditor, journal.ActorAgency)))
	v1.POST("/agency/remittances", s.issueRemittance, agency)
	v1.PUT("/webhook", s.putWebhook, cred)
	v1.GET("/webhook", s.getWebhook, cred)
	v1.DELETE("/webhook", s.deleteWebhook, cred)
	v1.GET("/webhook/deliveries", s.webhookDeliveries, cred)
	v1.DELETE("/debtors/:customerNumber/personal-data", s.erasePersonalData, checked(s.authenticate(journal.ActorCreditor, journal.ActorAgency)))

	v1.POST("/placements/:id/email-sequences", s.startSequence, agency)
	v1.POST("/placements/:id/calls", s.scheduleCall, agency)
	v1.POST("/placements/:id/debits", s.addDebit, agency)
	v1.POST("/placements/:id/calls/:callId/dial", s.dialCall, agency)
	v1.POST("/placements/:id/calls/:callId/complete", s.completeCall, agency)
	v1.POST("/placements/:id/agency-payments", s.agencyPayment, agency)
	v1.POST("/placements/:id/write-off", s.writeOff, agency)
	v1.GET("/admin/verify", s.adminVerify, agency)
}

const requestIDKey = "ledger.requestId"

// routeOnEscapedPath makes the router match the path as the client encoded
// it. Go sets URL.RawPath only when the client's encoding differs from the
// default one, and echo routes on RawPath when set, on the decoded Path
// otherwise: so K%207 arrived as "K 7" but K%207%2F8 as "K%207%2F8", and a
// customer literally named K%2F1 was confused with K/1. With RawPath always
// set, every path parameter arrives encoded, and unescapeParams decodes each
// exactly once.
func routeOnEscapedPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		u.RawPath = u.EscapedPath()
		return next(c)
	}
}

// unescapeParams decodes every path parameter of every route once, so that
// handlers read the value the client meant ("K 7/8" for K%207%2F8).
func unescapeParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := c.ParamValues()
		decoded := make([]string, len(values))
		for i, v := range values {
			d, err := url.PathUnescape(v)
			if err != nil {
				return newError(http.StatusBadRequest, "invalid_path", "a path segment is not validly percent-encoded",
					domain.FieldError{Field: c.ParamNames()[i], Message: "is not validly percent-encoded"})
			}
			decoded[i] = d
		}
		c.SetParamValues(decoded...)
		return next(c)
	}
}

// requestContext gives every request an id (X-Request-Id) and measures it.
func (s *Server) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := uuid.NewString()
		c.Set(requestIDKey, id)
		h := c.Response().Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff") // every body is what its Content-Type says
		c.Response().Before(func() { s.acknowledge(c) })
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || errors.Is(err, echo.ErrNotFound) || errors.Is(err, echo.ErrMethodNotAllowed) {
			route = "unmatched" // the router's answer: the path is the client's choice
		}
		s.metrics.requests.WithLabelValues(methodLabel(c.Request().Method), route, strconv.Itoa(c.Response().Status)).
			Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel keeps the metrics' method label to the methods HTTP defines:
// any other string a client sends is OTHER, so clients cannot create series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ready, err := s.runner.Ready()
	body := map[string]any{"position": s.runner.Position()}
	if units, pos, target := s.runner.Rebuilding(); len(units) > 0 {
		// Served from the units' current views meanwhile.
		body["rebuilding"] = map[string]any{"units": units, "position": pos, "target": target}
	}
	switch {
	case err != nil:
		body["status"] = "failed"
		body["detail"] = "the projections stopped; see the server's log"
		return c.JSON(http.StatusServiceUnavailable, body)
	case !ready:
		body["status"] = "catching_up"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	body["status"] = "ready"
	return c.JSON(http.StatusOK, body)
}

// waitFresh makes a read as fresh as the log: it waits (bounded) until the
// views have applied the log's head as it was when the request arrived, or
// ?minPosition=N when given. The feeds, the reconciliation report and the
// webhook read this way, as they did when they read the log itself.
func (s *Server) waitFresh(c echo.Context) error {
	if c.QueryParam("minPosition") != "" {
		return s.waitMinPosition(c)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.minWait)
	defer cancel()
	head, err := s.runner.Head(ctx)
	if err != nil {
		return err
	}
	if err := s.runner.WaitFor(ctx, head); err != nil {
		return newError(http.StatusServiceUnavailable, "not_caught_up", "the projections have not reached the log's head yet; try again")
	}
	return nil
}
