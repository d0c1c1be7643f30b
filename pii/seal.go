package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/collections-ledger/ledger/domain"
)

// ErrDamaged: sealed data does not open with its key: it was changed (or
// its associated data does not match the event it is in).
var ErrDamaged = errors.New("pii: the sealed personal data is damaged: it does not authenticate under its key")

// AAD is the associated data personal data is sealed with: the event it
// belongs to (the placement, and the context: the event type, and a contact
// change's id) and its owner, so a ciphertext copied into another event,
// placement or debtor does not open.
func AAD(creditor, customer, placement, context string) []byte {
	return []byte("ledger-pii/1\x00" + creditor + "\x00" + customer + "\x00" + placement + "\x00" + context)
}

// Context names the event sealed data is for: its type, and for an event
// that may happen several times on a placement, its id.
func Context(eventType, id string) string {
	if id == "" {
		return eventType
	}
	return eventType + "/" + id
}

// Seal seals plain (the personal fields, as JSON) under the debtor's
// current data key, for the event context names.
func Seal(keys Keys, creditor, customer, placement, context string, plain []byte) (*domain.SealedData, error) {
	aad := AAD(creditor, customer, placement, context)
	id, key, err := keys.Current(creditor, customer)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &domain.SealedData{KeyID: id, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, aad), Context: context}, nil
}

// Open opens a placement's sealed data: ErrErased when its key was
// destroyed, ErrDamaged when it does not authenticate.
func Open(keys Keys, creditor, customer, placement string, s *domain.SealedData) ([]byte, error) {
	aad := AAD(creditor, customer, placement, s.Context)
	key, err := keys.Key(creditor, customer, s.KeyID)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return nil, ErrDamaged
	}
	plain, err := aead.Open(nil, s.Nonce, s.Ciphertext, aad)
	if err != nil {
		return nil, ErrDamaged
	}
	return plain, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pii: a data key: %w", err)
	}
	return cipher.NewGCM(block)
}

// Fingerprint is a keyed hash of personal data under one of the debtor's
// data keys (by its id), for comparing a request with an earlier one
// without keeping the data in clear or under a plain hash that trying
// candidates could confirm: once the debtor is erased, no one can tell
// what it was made of. ErrErased when that key was destroyed.
func Fingerprint(keys Keys, creditor, customer, keyID string, plain []byte) ([]byte, error) {
	key, err := keys.Key(creditor, customer, keyID)
	if err != nil {
		return nil, err
	}
	derive := hmac.New(sha256.New, key) // never the data key itself: one derived from it for this use only
	derive.Write([]byte("ledger-request-fingerprint/1"))
	mac := hmac.New(sha256.New, derive.Sum(nil))
	mac.Write([]byte(creditor + "\x00" + customer + "\x00"))
	mac.Write(plain)
	return mac.Sum(nil), nil
}
