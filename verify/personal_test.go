package verify_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
)

// sealedStore writes two placements of debtors with personal data, and a
// contact change, into a fresh store.
func sealedStore(t *testing.T) (dir string, keys *pii.FileKeys) {
	t.Helper()
	dir = t.TempDir()
	m, err := pii.ParseMasterKey(pii.NewMasterKey())
	require.NoError(t, err)
	keys, err = pii.OpenFileKeys(filepath.Join(t.TempDir(), "keys"), m)
	require.NoError(t, err)
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	ctx := context.Background()
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
	for i, customer := range []string{"K-A", "K-B"} {
		id := uuid.New()
		sealed, err := pii.Seal(keys, "acme", customer, id.String(), domain.TypePlacementOpened, []byte(`{"lastName":"Holzapfel-`+customer+`"}`))
		require.NoError(t, err)
		_, err = h.Place(ctx, req, domain.Place{PlacementID: id, CreditorID: "acme", ClaimNumber: "CL-" + customer, CustomerNumber: customer,
			Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"), PersonalData: sealed,
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		if i == 1 {
			change := uuid.New()
			moved, err := pii.Seal(keys, "acme", customer, id.String(), pii.Context(domain.TypeDebtorContactChanged, change.String()), []byte(`{"lastName":"Moved"}`))
			require.NoError(t, err)
			_, err = h.Execute(ctx, id, req, func(at time.Time) domain.Command {
				return domain.ChangeDebtorContact{ChangeID: change, PersonalData: moved, At: at}
			})
			require.NoError(t, err)
		}
	}
	require.NoError(t, s.Close())
	return dir, keys
}

func verifyWith(t *testing.T, dir string, keys pii.Keys) verify.Report {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	r, err := verify.Run(context.Background(), s, verify.Options{Deep: true, Personal: keys})
	require.NoError(t, err)
	requireSameSpilled(t, s, verify.Options{Deep: true, Personal: keys}, r)
	return r
}

func TestSealedPersonalDataChecked(t *testing.T) {
	dir, keys := sealedStore(t)
	r := verifyWith(t, dir, keys)
	assert.True(t, r.OK(), "%v", r.Findings)
	assert.Equal(t, 3, r.PersonalChecked, "two handovers and a contact change")
	without := verifyWith(t, dir, nil)
	assert.True(t, without.OK())
	assert.Equal(t, 3, without.PersonalUnchecked, "without the key store: counted, not opened")

	_, err := keys.Destroy("acme", "K-B")
	require.NoError(t, err)
	r = verifyWith(t, dir, keys)
	assert.True(t, r.OK(), "erased data is no finding: %v", r.Findings)
	assert.Equal(t, 1, r.PersonalChecked)
	assert.Equal(t, 2, r.PersonalErased)
}

func TestErrDamagedCiphertextNamed(t *testing.T) {
	dir, keys := sealedStore(t)
	// One character of a handover's ciphertext changed, the record's
	// checksum recomputed: the chain names the event, and so does the seal.
	pos := tamper(t, dir, []byte(`"ciphertext":"`), func(v []byte) {
		i := bytes.Index(v, []byte(`"ciphertext":"`)) + len(`"ciphertext":"`) + 4
		if v[i] == 'A' {
			v[i] = 'B'
		} else {
			v[i] = 'A'
		}
	}, true)
	r := verifyWith(t, dir, keys)
	require.False(t, r.OK())
	var sealed *verify.Finding
	for i, f := range r.Findings {
		if f.Field == "personalData" {
			sealed = &r.Findings[i]
		}
	}
	require.NotNil(t, sealed, "findings: %v", r.Findings)
	assert.EqualValues(t, pos, sealed.Position)
	assert.Contains(t, sealed.Problem, "damaged")
}
