package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// The claims API: the rest of the collection API whose recall page the
// product started from, in that API's shapes. Commands answer 202 with the
// request id; what they did shows in the feeds and in GET /v1/claims/{n}.

// claimCustomer is the handover's debtor: customerNumber in clear, the
// personal fields sealed under the debtor's data key (package pii).
type claimCustomer struct {
	CustomerNumber        string          `json:"customerNumber"`
	Type                  json.RawMessage `json:"type"`
	PreferredLanguage     json.RawMessage `json:"preferredLanguage"`
	Salutation            json.RawMessage `json:"salutation"`
	Title                 json.RawMessage `json:"title"`
	FirstName             json.RawMessage `json:"firstName"`
	MiddleName            json.RawMessage `json:"middleName"`
	LastName              json.RawMessage `json:"lastName"`
	CompanyName           json.RawMessage `json:"companyName"`
	DateOfBirth           json.RawMessage `json:"dateOfBirth"`
	Addresses             json.RawMessage `json:"addresses"`
	CommunicationChannels json.RawMessage `json:"communicationChannels"`
	BankAccounts          json.RawMessage `json:"bankAccounts"`
}

type claimInvoice struct {
	InvoiceNumber   string          `json:"invoiceNumber"`
	OriginalAmount  json.RawMessage `json:"originalAmount"`
	RemainingAmount json.RawMessage `json:"remainingAmount"`
	Currency        string          `json:"currency"`
	DueDate         string          `json:"dueDate"`
	InvoiceDate     string          `json:"invoiceDate"`
}

type claimContract struct {
	ContractNumber string         `json:"contractNumber"`
	Invoices       []claimInvoice `json:"invoices"`
}

type claimRequest struct {
	ClaimNumber *string         `json:"claimNumber"`
	FeeRate     json.RawMessage `json:"feeRate"`
	Customer    *claimCustomer  `json:"customer"`
	Contracts   []claimContract `json:"contracts"`
	// Receivables of their own beside the principal, in its currency.
	Costs     []claimCharge `json:"costs"`
	Interests []claimCharge `json:"interests"`
}

// invoicePath matches a domain field path of a placement's invoice.
var invoicePath = regexp.MustCompile(`^invoices\[(\d+)\]\.(.*)$`)

// toPlace builds the placement a handover makes, and a function that
// renames the domain's field paths (invoices[k].amount) to the request's
// (contracts[i].invoices[j].remainingAmount).
func (r claimRequest) toPlace(creditor string) (domain.Place, func(error) error, error) {
	cmd := domain.Place{PlacementID: uuid.New(), CreditorID: creditor, FeeRate: decimal.Zero}
	if r.ClaimNumber != nil {
		cmd.ClaimNumber = *r.ClaimNumber
	} else {
		cmd.ClaimNumber = newClaimNumber()
	}
	if len(r.FeeRate) > 0 {
		rate, err := domain.ParseRate(r.FeeRate, "feeRate")
		if err != nil {
			return cmd, nil, err
		}
		cmd.FeeRate = rate
	}
	if r.Customer == nil {
		return cmd, nil, domain.Invalid(domain.FieldError{Field: "customer", Message: "is required"})
	}
	cmd.CustomerNumber = r.Customer.CustomerNumber
	invoices, currency, paths, err := placedInvoices(r.Contracts)
	if err != nil {
		return cmd, nil, err
	}
	cmd.Invoices, cmd.Currency = invoices, currency
	if cmd.Charges, err = handoverCharges(r.Costs, r.Interests, currency); err != nil {
		return cmd, nil, err
	}
	return cmd, renameInvoiceFields(paths), nil
}

// placedInvoices flattens a handover's contracts into the placement's
// invoices, all in the currency of the first, and returns with them the
// request's path of each (contracts[i].invoices[j]). A handover needs at
// least one contract, each with at least one invoice, and at most
// domain.MaxInvoices invoices in all.
func placedInvoices(contracts []claimContract) (invoices []domain.Invoice, currency string, paths []string, err error) {
	if len(contracts) == 0 {
		return nil, "", nil, domain.Invalid(domain.FieldError{Field: "contracts", Message: "at least one contract with an invoice is required"})
	}
	for i, ct := range contracts {
		if len(ct.Invoices) == 0 {
			return nil, "", nil, domain.Invalid(domain.FieldError{Field: fmt.Sprintf("contracts[%d].invoices", i), Message: "at least one invoice is required"})
		}
		for j, inv := range ct.Invoices {
			path := fmt.Sprintf("contracts[%d].invoices[%d]", i, j)
			if domain.CheckInvoiceCount(len(paths)+1) != nil {
				return nil, "", nil, domain.Invalid(domain.FieldError{Field: "contracts", Message: fmt.Sprintf("at most %d invoices in all", domain.MaxInvoices)})
			}
			if currency == "" {
				currency = inv.Currency
			}
			if inv.Currency != currency {
				return nil, "", nil, domain.Invalid(domain.FieldError{Field: path + ".currency", Message: fmt.Sprintf("a claim's invoices are all in one currency (%s)", currency)})
			}
			placed, err := inv.toInvoice(ct.ContractNumber, path)
			if err != nil {
				return nil, "", nil, err
			}
			invoices = append(invoices, placed)
			paths = append(paths, path)
		}
	}
	return invoices, currency, paths, nil
}

// toInvoice is the placement's invoice for inv of contract contractNumber,
// at path in the request: its remaining amount is what the ledger collects,
// its original amount (if given) what was invoiced.
func (inv claimInvoice) toInvoice(contractNumber, path string) (domain.Invoice, error) {
	remaining, err := parseAmount(inv.RemainingAmount, inv.Currency, path+".remainingAmount")
	if err != nil {
		return domain.Invoice{}, err
	}
	placed := domain.Invoice{InvoiceNumber: inv.InvoiceNumber, ContractNumber: contractNumber, Amount: domain.AmountOf(remaining),
		DueDate: inv.DueDate, InvoiceDate: inv.InvoiceDate}
	if len(inv.OriginalAmount) > 0 {
		original, err := parseAmount(inv.OriginalAmount, inv.Currency, path+".originalAmount")
		if err != nil {
			return domain.Invoice{}, err
		}
		invoiced := domain.AmountOf(original)
		placed.InvoicedAmount = &invoiced
	}
	return placed, nil
}

// renameInvoiceFields returns a function that renames the field paths of a
// domain error about a placement to a handover's: customerNumber to
// customer.customerNumber, invoices to contracts, and invoices[k].field to
// field of paths[k] (amount as remainingAmount; contractNumber as the
// contract's). Other errors pass unchanged.
func renameInvoiceFields(paths []string) func(error) error {
	return func(err error) error {
		e, ok := domain.AsError(err)
		if !ok || len(e.Fields) == 0 {
			return err
		}
		out := *e
		out.Fields = make([]domain.FieldError, len(e.Fields))
		for n, f := range e.Fields {
			out.Fields[n] = f
			switch m := invoicePath.FindStringSubmatch(f.Field); {
			case f.Field == "customerNumber":
				out.Fields[n].Field = "customer.customerNumber"
			case f.Field == "invoices":
				out.Fields[n].Field = "contracts"
			case m != nil:
				k, _ := strconv.Atoi(m[1])
				if k >= len(paths) {
					continue
				}
				field := m[2]
				switch field {
				case "amount":
					field = "remainingAmount"
				case "contractNumber":
					out.Fields[n].Field = strings.Split(paths[k], ".")[0] + ".contractNumber"
					continue
				}
				out.Fields[n].Field = paths[k] + "." + field
			}
		}
		return &out
	}
}

// handOver is POST /v1/claims.
func (s *Server) handOver(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r claimRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	cmd, rename, err := r.toPlace(who(c).id)
	if err != nil {
		return err
	}
	req, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	personal, err := r.Customer.personalFields()
	if err != nil {
		return err
	}
	res, err := s.answer(c, "place", func() (command.Result, error) {
		return s.commands.HandOver(c.Request().Context(), req, cmd, personal, func(creditor, customer, keyID string) (string, error) {
			return s.requestHash(c, req.Actor, req.IdempotencyKey, body, &debtorFields{at: "customer", creditor: creditor, customer: customer, keyID: keyID})
		})
	})
	if err != nil {
		return rename(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/claims/"+res.Placement.ClaimNumber)
	return accepted(c, res, "claimNumber", res.Placement.ClaimNumber, "placementId", res.Placement.ID.String())
}

type claimPaymentRequest struct {
	InvoiceNumber  string          `json:"invoiceNumber"`
	PaymentNumber  string          `json:"paymentNumber"`
	ContractNumber string          `json:"contractNumber"`
	Date           string          `json:"date"`
	Description    string          `json:"description"`
	Amount         json.RawMessage `json:"amount"`
	Currency       string          `json:"currency"`
	AllocateTo     string          `json:"allocateTo"`
}

// claimPayment is POST /v1/claims/{claimNumber}/payments: a payment as
// payment-received records it, allocated to the invoice it names (or to
// allocateTo's bucket, then costs, interests, principal), except that what
// is more than the claim has open is kept as an overpayment, not refused.
func (s *Server) claimPayment(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r claimPaymentRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if r.Currency != "" {
		if err := domain.CheckCurrency(r.Currency, "currency"); err != nil {
			return err
		}
	}
	amount, err := parseAmount(r.Amount, r.Currency, "amount")
	if err != nil {
		return err
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "payment_received", id, body, func(at time.Time) domain.Command {
		return domain.ReceivePayment{PaymentNumber: r.PaymentNumber, Amount: amount, At: at, InvoiceNumber: r.InvoiceNumber,
			ContractNumber: r.ContractNumber, Currency: r.Currency, Date: r.Date, Description: r.Description, AllocateTo: r.AllocateTo,
			Overpay: true}
	})
	if err != nil {
		return err
	}
	setPaymentNumber(c, r.PaymentNumber, res)
	if n := c.Response().Header().Get(paymentNumberHeader); n != "" {
		return accepted(c, res, "paymentNumber", n)
	}
	return accepted(c, res)
}

// claimWaiverRequest is a credit waiver as the claims API sends it: the
// partial recall's line, with an allocateTo that is accepted and not kept
// (a waiver lowers the invoice it names).
type claimWaiverRequest struct {
	waiverRequest
	AllocateTo json.RawMessage `json:"allocateTo"`
}

// claimCreditWaiver is POST /v1/claims/{claimNumber}/creditWaivers: one
// credit waiver, as a partial recall with one line.
func (s *Server) claimCreditWaiver(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r claimWaiverRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if r.Type == "" {
		r.Type = "CREDIT_WAIVER"
	}
	w, err := r.toDomain("")
	if err != nil {
		return err
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "partial_recall", id, body, func(at time.Time) domain.Command {
		return domain.PartialRecall{Waivers: []domain.Waiver{w}, At: at}
	})
	if err := recordedIsDone(err); err != nil {
		return err
	}
	return accepted(c, res) // a waiver on a closed claim: its REJECTION is in the feed
}

// ClaimInvoice is one invoice of a claim as the claims API shows it:
// originalAmount is what was placed for collection (the handover's
// remainingAmount), and originalAmount − waivedAmount − paidAmount −
// writtenOffAmount − recalledAmount = openAmount; invoicedAmount is the
// invoice's amount as invoiced, when the handover gave it.
type ClaimInvoice struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	InvoiceDate    string `json:"invoiceDate,omitempty"`
	DueDate        string `json:"dueDate"`
	Currency       string `json:"currency"`
	InvoicedAmount string `json:"invoicedAmount,omitempty"`
	OriginalAmount string `json:"originalAmount"`
	WaivedAmount   string `json:"waivedAmount"`
	PaidAmount     string `json:"paidAmount"`
	OpenAmount     string `json:"openAmount"`
	// WrittenOffAmount is present when something of it was written off,
	// RecalledAmount when a recall took something of it.
	WrittenOffAmount *string `json:"writtenOffAmount,omitempty"`
	RecalledAmount   *string `json:"recalledAmount,omitempty"`
}

// Claim is a claim as the claims API shows it.
type Claim struct {
	ClaimNumber    string        `json:"claimNumber"`
	PlacementID    uuid.UUID     `json:"placementId"`
	CustomerNumber string        `json:"customerNumber"`
	Status         domain.Status `json:"status"`
	Currency       string        `json:"currency"`
	FeeRate        string        `json:"feeRate"`
	OriginalAmount string        `json:"originalAmount"`
	WaivedAmount   string        `json:"waivedAmount"`
	PaidAmount     string        `json:"paidAmount"`
	OpenAmount     string        `json:"openAmount"`
	FeeAmount      string        `json:"feeAmount"`
	// As the placement's: each present only when not zero.
	AgencyPaidAmount *string        `json:"agencyPaidAmount,omitempty"`
	WrittenOffAmount *string        `json:"writtenOffAmount,omitempty"`
	RecalledAmount   *string        `json:"recalledAmount,omitempty"`
	ResolvedAt       *time.Time     `json:"resolvedAt"`
	InvoiceCount     int            `json:"invoiceCount"`
	Invoices         []ClaimInvoice `json:"invoices"`
	Revision         uint64         `json:"revision"`
	// Customer is the debtor, with its personal data for the owning
	// creditor: only in GET /v1/claims/{claimNumber}, whose every read of
	// it is recorded.
	Customer *ClaimCustomer `json:"customer,omitempty"`
	// Costs, interests and the overpayment, when the claim has any.
	*projections.ChargesView
}

// claimOf renders a placement resource as a claim.
func claimOf(raw json.RawMessage) (Claim, error) {
	var p projections.PlacementResource
	if err := json.Unmarshal(raw, &p); err != nil {
		return Claim{}, fmt.Errorf("claims: a placement resource in the views: %w", err)
	}
	return claimFrom(p), nil
}

// claimFrom renders a placement as a claim.
func claimFrom(p projections.PlacementResource) Claim {
	cl := Claim{ClaimNumber: p.ClaimNumber, PlacementID: p.PlacementID, CustomerNumber: p.CustomerNumber, Status: p.Status,
		Currency: p.Currency, FeeRate: p.FeeRate, OriginalAmount: p.OriginalAmount, WaivedAmount: p.WaivedAmount,
		PaidAmount: p.RecoveredAmount, OpenAmount: p.OutstandingAmount, FeeAmount: p.FeeAmount, ResolvedAt: p.ResolvedAt,
		AgencyPaidAmount: p.AgencyPaidAmount, WrittenOffAmount: p.WrittenOffAmount, RecalledAmount: p.RecalledAmount, InvoiceCount: len(p.Invoices), Invoices: make([]ClaimInvoice, len(p.Invoices)),
		Revision: p.Revision, ChargesView: p.ChargesView}
	for i, inv := range p.Invoices {
		cl.Invoices[i] = ClaimInvoice{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, InvoiceDate: inv.InvoiceDate,
			DueDate: inv.DueDate, Currency: p.Currency, InvoicedAmount: inv.InvoicedAmount, OriginalAmount: inv.Amount,
			WaivedAmount: inv.WaivedAmount, PaidAmount: inv.PaidAmount, OpenAmount: inv.OpenAmount, WrittenOffAmount: inv.WrittenOffAmount,
			RecalledAmount: inv.RecalledAmount}
	}
	return cl
}

// readClaim reads the caller's claim in the path, as fresh as the log.
func (s *Server) readClaim(c echo.Context) (Claim, error) {
	if err := s.waitFresh(c); err != nil {
		return Claim{}, err
	}
	creditor := who(c).id
	id, found, err := s.runner.Views.ClaimPlacement(creditor, c.Param("claimNumber"))
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return Claim{}, err
	}
	raw, _, found, err := s.runner.Views.PlacementJSON(creditor, id)
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return Claim{}, err
	}
	return claimOf(raw)
}

// getClaim is GET /v1/claims/{claimNumber}; with ?asOf= or ?atPosition=,
// the claim as it stood then.
func (s *Server) getClaim(c echo.Context) error {
	cut, err := parseCut(c)
	if err != nil {
		return err
	}
	if !cut.IsZero() {
		return s.getClaimThen(c, cut)
	}
	cl, err := s.readClaim(c)
	if err != nil {
		return err
	}
	if cl.Customer, err = s.openCustomer(c, cl, "GET /v1/claims/{claimNumber}"); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", personalCacheControl)
	h.Set("ETag", claimETag(cl.Revision, cl.Customer))
	return c.JSON(http.StatusOK, cl)
}

// getClaimThen is the claim as it stood at cut, folded from its events as
// GET /v1/placements/{id}?asOf= does. It carries no customer: the debtor's
// personal data is served only as it stands, and each such read recorded.
func (s *Server) getClaimThen(c echo.Context, cut projections.Cut) error {
	if err := s.waitFresh(c); err != nil {
		return err
	}
	creditor := who(c).id
	id, found, err := s.runner.Views.ClaimPlacement(creditor, c.Param("claimNumber"))
	if err != nil {
		return err
	}
	if !found {
		return domain.ErrNotFound
	}
	events, err := s.runner.History(c.Request().Context(), creditor, id)
	if err != nil {
		return err
	}
	p, existed := projections.RenderEvents(projections.Until(events, cut))
	if !existed {
		return &domain.Error{Kind: domain.KindNotFound, Code: "not_found", Message: "the claim did not exist yet at that point"}
	}
	cl := claimFrom(p)
	c.Response().Header().Set("ETag", fmt.Sprintf(`"%d"`, cl.Revision))
	return c.JSON(http.StatusOK, cl)
}

type invoicePage struct {
	Items      []ClaimInvoice `json:"items"`
	Page       int            `json:"page"`
	PageSize   int            `json:"pageSize"`
	TotalItems int            `json:"totalItems"`
	TotalPages int            `json:"totalPages"`
}

// claimInvoices is GET /v1/claims/{claimNumber}/invoices?page=&pageSize=:
// pages from 1, 10 invoices a page unless pageSize says otherwise.
func (s *Server) claimInvoices(c echo.Context) error {
	page, err := queryInt(c, "page", 1, 1, 1<<20)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "pageSize", 10, 1, 100)
	if err != nil {
		return err
	}
	cl, err := s.readClaim(c)
	if err != nil {
		return err
	}
	out := invoicePage{Items: []ClaimInvoice{}, Page: page, PageSize: size, TotalItems: len(cl.Invoices),
		TotalPages: (len(cl.Invoices) + size - 1) / size}
	if from := (page - 1) * size; from < len(cl.Invoices) {
		out.Items = cl.Invoices[from:min(from+size, len(cl.Invoices))]
	}
	return c.JSON(http.StatusOK, out)
}

type claimSearchPage struct {
	Items      []Claim `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// searchClaims is GET /v1/claims/search: the caller's claims with a
// customer, contract or invoice number (exactly one of the three), in the
// order placed, a page at a time.
func (s *Server) searchClaims(c echo.Context) error {
	var kind byte
	var value string
	given := 0
	for _, q := range []struct {
		name string
		kind byte
	}{{"customerNumber", projections.SearchCustomer}, {"contractNumber", projections.SearchContract}, {"invoiceNumber", projections.SearchInvoice}} {
		if v := c.QueryParam(q.name); v != "" {
			kind, value = q.kind, v
			given++
		}
	}
	if given != 1 {
		return newError(http.StatusBadRequest, "invalid_query", "give exactly one of customerNumber, contractNumber or invoiceNumber",
			domain.FieldError{Field: "customerNumber", Message: "exactly one of customerNumber, contractNumber or invoiceNumber is required"})
	}
	after, limit, err := listPage(c)
	if err != nil {
		return err
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	raws, next, err := s.runner.Views.Search(who(c).id, kind, value, after, limit)
	if err != nil {
		return err
	}
	out := claimSearchPage{Items: make([]Claim, 0, len(raws))}
	for _, raw := range raws {
		cl, err := claimOf(raw)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, cl)
	}
	if next != nil {
		cur := next.String()
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}
