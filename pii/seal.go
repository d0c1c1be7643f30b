package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/collections-ledger/ledger/domain"
)

// ErrDamaged: sealed data does not open with its key: it was changed (or
// its associated data does not match the event it is in).
var ErrDamaged = errors.New("pii: the sealed personal data is damaged: it does not authenticate under its key")

// AAD is the associated data personal data is sealed with: the event it
// belongs to (the placement and the event type) and its owner, so a
// ciphertext copied into another event, placement or debtor does not open.
func AAD(creditor, customer, placement, eventType string) []byte {
	return []byte("ledger-pii/1\x00" + creditor + "\x00" + customer + "\x00" + placement + "\x00" + eventType)
}

// Seal seals plain (the personal fields, as JSON) under the debtor's
// current data key.
func Seal(keys Keys, creditor, customer string, aad, plain []byte) (*domain.SealedData, error) {
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
	return &domain.SealedData{KeyID: id, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, aad)}, nil
}

// Open opens sealed data: ErrErased when its key was destroyed, ErrDamaged
// when it does not authenticate.
func Open(keys Keys, creditor, customer string, aad []byte, s *domain.SealedData) ([]byte, error) {
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
