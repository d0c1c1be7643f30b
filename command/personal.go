package command

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/retention"
)

// Debtors' personal data: sealed under the debtor's data key before it is
// appended (only ciphertext reaches the log and the views), its reads
// recorded in the access log, and erased by destroying the keys. Every one
// of these writes is a method of the handler.

// RequestHash returns the hash a request with an Idempotency-Key is
// remembered by, given whose personal data it carries and the data key it
// was just sealed with ("" for a repeat, which is not sealed again: its hash
// is keyed as its first request's was).
type RequestHash func(creditor, customer, keyID string) (string, error)

// HandOver opens a placement with its debtor's personal data (one JSON
// object of personal fields; nil when there are none), sealed under the
// debtor's data key. Every check that could refuse the handover runs
// first, so a refused handover creates no data key; a repeat of an
// Idempotency-Key is not sealed again. hash gives req its request hash
// once the data key is known (see RequestHash).
func (h *Handler) HandOver(ctx context.Context, req Request, cmd domain.Place, personal []byte, hash RequestHash) (Result, error) {
	if personal != nil && !h.Seen(req) {
		if err := domain.CheckPersonalData(personal, h.now(), "customer."); err != nil {
			return Result{}, err
		}
		if dec := domain.Decide(domain.Placement{}, cmd); dec.Err != nil {
			return Result{}, dec.Err
		}
		if _, taken, err := h.ClaimOwner(ctx, cmd.CreditorID, cmd.ClaimNumber); err != nil {
			return Result{}, err
		} else if taken {
			return Result{}, domain.ErrClaimNumberTaken
		}
		sealed, err := h.seal(cmd.CreditorID, cmd.CustomerNumber, cmd.PlacementID, domain.TypePlacementOpened, personal)
		if err != nil {
			return Result{}, err
		}
		cmd.PersonalData = sealed
	}
	if personal != nil && req.IdempotencyKey != "" {
		var err error
		if req.RequestHash, err = hash(cmd.CreditorID, cmd.CustomerNumber, keyIDOf(cmd.PersonalData)); err != nil {
			return Result{}, err
		}
	}
	return h.Place(ctx, req, cmd)
}

// ChangeContact records the debtor's personal data as it is now (a new
// address, phone, e-mail or bank account), sealed, as DebtorContactChanged
// on placement id. customer, when given, must be the placement's customer
// number: a claim's debtor does not change. hash is as for HandOver.
func (h *Handler) ChangeContact(ctx context.Context, id uuid.UUID, req Request, customer string, personal []byte, hash RequestHash) (Result, error) {
	if h.Personal == nil {
		return Result{}, domain.ErrPersonalDataNotAccepted
	}
	c, err := h.latest(ctx, id)
	if err == nil && (!c.p.Exists() || (req.Creditor != "" && c.p.CreditorID != req.Creditor)) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return Result{}, err
	}
	if customer != "" && customer != c.p.CustomerNumber {
		return Result{}, domain.Unprocessable("customer_mismatch", "customerNumber", "the claim's customer number is another; a claim's debtor does not change")
	}
	change := uuid.New()
	var sealed *domain.SealedData
	if !h.Seen(req) {
		if err := domain.CheckPersonalData(personal, h.now(), ""); err != nil {
			return Result{}, err
		}
		if sealed, err = h.seal(c.p.CreditorID, c.p.CustomerNumber, id, pii.Context(domain.TypeDebtorContactChanged, change.String()), personal); err != nil {
			return Result{}, err
		}
	}
	if req.IdempotencyKey != "" {
		if req.RequestHash, err = hash(c.p.CreditorID, c.p.CustomerNumber, keyIDOf(sealed)); err != nil {
			return Result{}, err
		}
	}
	return h.Execute(ctx, id, req, func(at time.Time) domain.Command {
		return domain.ChangeDebtorContact{ChangeID: change, PersonalData: sealed, At: at}
	})
}

// seal seals a debtor's personal data for one placement.
func (h *Handler) seal(creditor, customer string, placement uuid.UUID, context string, personal []byte) (*domain.SealedData, error) {
	if h.Personal == nil {
		return nil, domain.ErrPersonalDataNotAccepted
	}
	sealed, err := pii.Seal(h.Personal, creditor, customer, placement.String(), context, personal)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", domain.ErrCannotSeal, err)
	}
	return sealed, nil
}

func keyIDOf(sealed *domain.SealedData) string {
	if sealed == nil {
		return ""
	}
	return sealed.KeyID
}

// RecordPersonalDataRead records in the access log that a debtor's
// personal data is shown in clear (read.ReadAt is set to now). A read that
// cannot be recorded must not be served.
func (h *Handler) RecordPersonalDataRead(ctx context.Context, actor, actorType string, read journal.PersonalDataRead) error {
	read.ReadAt = h.now().UTC()
	_, err := journal.AppendSystem(ctx, h.store, journal.AccessStream(read.CreditorID), actor, actorType,
		journal.PersonalDataReadType, read, read.ReadAt)
	return err
}

// Erase erases a debtor's personal data (see retention.Erase): the data
// keys are destroyed, then DebtorPersonalDataErased is recorded. Repeats
// change nothing and answer the same.
func (h *Handler) Erase(ctx context.Context, creditor, customer, actor, actorType, reason string) (retention.Erasure, error) {
	if h.Personal == nil {
		return retention.Erasure{}, domain.ErrPersonalDataNotAccepted
	}
	return retention.Erase(ctx, h.store, h.Personal, creditor, customer, actor, actorType, reason, h.now())
}
