package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
)

// Debtors' personal data: sealed under the debtor's data key before it is
// appended (only ciphertext reaches the log and the views), opened for the
// owning creditor's reads (each recorded in the access log), and erased by
// destroying the keys. The sealing, the access log and the erasure are the
// command handler's (command.Handler.HandOver, ChangeContact,
// RecordPersonalDataRead, Erase); here the data is only opened.

// ErrPersonalDataNotAccepted: the ledger runs without a key store.
var ErrPersonalDataNotAccepted = domain.ErrPersonalDataNotAccepted

// personalFields returns the handover's personal fields as one JSON object
// (only those given, null ones left out); nil when there are none.
func (cc claimCustomer) personalFields() ([]byte, error) {
	fields := []struct {
		name string
		raw  json.RawMessage
	}{
		{"type", cc.Type}, {"preferredLanguage", cc.PreferredLanguage}, {"salutation", cc.Salutation}, {"title", cc.Title},
		{"firstName", cc.FirstName}, {"middleName", cc.MiddleName}, {"lastName", cc.LastName}, {"companyName", cc.CompanyName},
		{"dateOfBirth", cc.DateOfBirth}, {"addresses", cc.Addresses}, {"communicationChannels", cc.CommunicationChannels},
		{"bankAccounts", cc.BankAccounts},
	}
	var b bytes.Buffer
	for _, f := range fields {
		raw := bytes.TrimSpace(f.raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", f.name)
		if err := json.Compact(&b, raw); err != nil {
			return nil, domain.Invalid(domain.FieldError{Field: "customer." + f.name, Message: "is not JSON"})
		}
	}
	if b.Len() == 0 {
		return nil, nil
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ClaimCustomer is the debtor as GET /v1/claims/{claimNumber} shows it to
// the owning creditor: the personal data in clear when it is there, with
// what became of it.
type ClaimCustomer struct {
	CustomerNumber string `json:"customerNumber"`
	// PersonalDataStatus is none (none was handed over), present, erased
	// (its key was destroyed) or damaged (it does not authenticate).
	PersonalDataStatus string          `json:"personalDataStatus"`
	PersonalData       json.RawMessage `json:"personalData"`
}

// Personal data statuses.
const (
	PersonalNone    = "none"
	PersonalPresent = "present"
	PersonalErased  = "erased"
	PersonalDamaged = "damaged"
)

// openCustomer opens a placement's personal data for its creditor and, when
// it is shown in clear, records the read in the access log first (a read
// that cannot be recorded is not served).
func (s *Server) openCustomer(c echo.Context, cl Claim, route string) (*ClaimCustomer, error) {
	p := who(c)
	return s.openCustomerFor(c, p.id, p.kind, cl, route)
}

// openCustomerFor is openCustomer for a reader named outright (the
// dashboard's signed-in creditor).
func (s *Server) openCustomerFor(c echo.Context, actor, actorType string, cl Claim, route string) (*ClaimCustomer, error) {
	out := &ClaimCustomer{CustomerNumber: cl.CustomerNumber, PersonalDataStatus: PersonalNone, PersonalData: json.RawMessage("null")}
	snap, found, err := s.runner.Views.Snapshot(cl.PlacementID)
	if err != nil || !found || snap.Placement.PersonalData == nil {
		return out, err
	}
	creditor := snap.Placement.CreditorID
	if s.personal == nil {
		return nil, newError(http.StatusServiceUnavailable, "key_store_unavailable", "this ledger runs without its master key: personal data cannot be read")
	}
	plain, err := pii.Open(s.personal, creditor, cl.CustomerNumber, cl.PlacementID.String(), snap.Placement.PersonalData)
	switch {
	case errors.Is(err, pii.ErrErased):
		out.PersonalDataStatus = PersonalErased
		return out, nil
	case errors.Is(err, pii.ErrDamaged):
		s.logger.Error("personal data does not authenticate", "placement", cl.PlacementID.String())
		out.PersonalDataStatus = PersonalDamaged
		return out, nil
	case err != nil:
		s.logger.Error("opening personal data failed", "err", err.Error())
		return nil, newError(http.StatusServiceUnavailable, "key_store_unavailable", "the key store cannot open personal data right now")
	}
	read := journal.PersonalDataRead{CreditorID: creditor, CustomerNumber: cl.CustomerNumber, PlacementID: cl.PlacementID,
		ClaimNumber: cl.ClaimNumber, Route: route}
	start := time.Now()
	err = s.commands.RecordPersonalDataRead(c.Request().Context(), actor, actorType, read)
	s.observe("record_personal_data_read", start, err, false)
	if err != nil {
		s.logger.Error("recording a read of personal data failed", "err", err.Error())
		return nil, newError(http.StatusServiceUnavailable, "store_unavailable", "the read of personal data cannot be recorded right now, so it is not served")
	}
	out.PersonalDataStatus, out.PersonalData = PersonalPresent, plain
	return out, nil
}

// personalCacheControl is the Cache-Control of every response that may show
// personal data in clear: no cache, shared or the browser's own, keeps a
// copy, so an erasure leaves none behind.
const personalCacheControl = "no-store, private"

// claimETag is the ETag of a claim read that shows its debtor: the
// placement's revision, and what became of the personal data when it is no
// longer shown in clear. An erasure appends nothing to the placement, so
// without the suffix a claim erased at revision 3 would keep the ETag "3" of
// the answer that showed the data. If-Match reads the revision before '-'.
func claimETag(revision uint64, cust *ClaimCustomer) string {
	if cust == nil || cust.PersonalDataStatus == PersonalNone || cust.PersonalDataStatus == PersonalPresent {
		return fmt.Sprintf(`"%d"`, revision)
	}
	return fmt.Sprintf(`"%d-%s"`, revision, cust.PersonalDataStatus)
}

type erasureRequest struct {
	Reason string `json:"reason"`
}

// erasePersonalData is DELETE /v1/debtors/{customerNumber}/personal-data:
// the debtor's data keys are destroyed, then DebtorPersonalDataErased is
// recorded (who and when in its metadata, why in its reason). A creditor
// erases its own debtor; the agency names the creditor (?creditorId=), for
// retention runs. Repeats change nothing and answer the same.
func (s *Server) erasePersonalData(c echo.Context) error {
	p := who(c)
	creditor := p.id
	reason := journal.ErasureDataSubjectRequest
	if p.kind == journal.ActorAgency {
		creditor, reason = c.QueryParam("creditorId"), journal.ErasureRetentionExpired
		if !domain.ValidCreditorID(creditor) {
			return domain.Invalid(domain.FieldError{Field: "creditorId", Message: "the agency names the creditor whose debtor it is: ?creditorId="})
		}
	} else if c.QueryParam("creditorId") != "" && c.QueryParam("creditorId") != creditor {
		return domain.ErrNotFound // a creditor erases only its own debtors
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if empty, err := emptyOrEmptyObject(body); err != nil {
		return err
	} else if !empty {
		var r erasureRequest
		if err := decodeStrict(body, &r); err != nil {
			return err
		}
		switch r.Reason {
		case journal.ErasureDataSubjectRequest, journal.ErasureRetentionExpired, journal.ErasureOther:
			reason = r.Reason
		default:
			return domain.Invalid(domain.FieldError{Field: "reason", Message: "must be DATA_SUBJECT_REQUEST, RETENTION_EXPIRED or OTHER"})
		}
	}
	customer := c.Param("customerNumber")
	if customer == "" || utf8.RuneCountInString(customer) > domain.MaxIdentifierLen {
		return domain.ErrNotFound
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	known, _, err := s.runner.Views.Search(creditor, projections.SearchCustomer, customer, 0, 1)
	if err != nil {
		return err
	}
	if len(known) == 0 {
		return newError(http.StatusNotFound, "debtor_not_found", "the creditor has no claim of this customer number")
	}
	if s.personal == nil {
		return newError(http.StatusServiceUnavailable, "key_store_unavailable", "this ledger runs without a master key: there are no data keys to destroy")
	}
	start := time.Now()
	e, err := s.commands.Erase(c.Request().Context(), creditor, customer, p.id, p.kind, reason)
	s.observe("erase_personal_data", start, err, false)
	if err != nil {
		s.logger.Error("erasing personal data failed", "err", err.Error())
		return newError(http.StatusServiceUnavailable, "key_store_unavailable", "the erasure could not be completed right now; try again")
	}
	c.Response().Header().Set("Ledger-Position", fmt.Sprint(uint64(e.Position)))
	return c.JSON(http.StatusOK, map[string]any{"creditorId": creditor, "customerNumber": customer, "erased": true,
		"erasedAt": e.At.UTC().Format(time.RFC3339Nano), "erasedBy": e.By})
}

// changeContact is PUT /v1/claims/{claimNumber}/customer: the debtor's
// personal data as it is now (a new address, phone, e-mail or bank
// account), sealed and recorded as DebtorContactChanged on the claim. It
// replaces what the claim showed; the earlier data stays, sealed, in the
// history, until the debtor is erased.
func (s *Server) changeContact(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var cc claimCustomer
	if err := decodeStrict(body, &cc); err != nil {
		return err
	}
	personal, err := cc.personalFields()
	if err != nil {
		return err
	}
	if personal == nil {
		return domain.Invalid(domain.FieldError{Field: "(body)", Message: "give the debtor's personal data (names, addresses, communicationChannels, bankAccounts, …)"})
	}
	if s.personal == nil {
		return ErrPersonalDataNotAccepted
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	if err := s.waitFresh(c); err != nil { // as it always has: the views have caught up when it answers
		return err
	}
	req, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	res, err := s.answer(c, "change_debtor_contact", func() (command.Result, error) {
		return s.commands.ChangeContact(c.Request().Context(), id, req, cc.CustomerNumber, personal, func(creditor, customer, keyID string) (string, error) {
			return s.requestHash(c, req.Actor, req.IdempotencyKey, body, &debtorFields{creditor: creditor, customer: customer, keyID: keyID})
		})
	})
	if err != nil {
		return err
	}
	return accepted(c, res)
}
