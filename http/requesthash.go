package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/pii"
)

// An Idempotency-Key remembers its request by a hash (the requestHash in
// every event's metadata), so a repeat is answered as the first and another
// request with the key is refused. The hash is of the request's meaning and
// holds nothing personal:
//
//   - The body is canonical JSON: object keys sorted, no insignificant
//     whitespace, strings by their value (however escaped). Numbers are
//     compared by their text as sent, never through float64 and never
//     normalised: 100 and 100.0 are two requests (send an amount the same
//     way each time). An empty body is its own form.
//   - A debtor's personal fields (those sealed under the debtor's data key)
//     are left out of that hash and keyed into a second part instead, an
//     HMAC under a key derived from the debtor's data key: the log holds no
//     plain hash of a date of birth that trying candidate dates could
//     confirm, and erasing the debtor destroys the key. A repeat after the
//     erasure is compared by the non-personal part only.
//
// The format is "r2.<hex sha256>" or "r2.<hex sha256>.<data key id>.<hex
// hmac>". Events recorded before it keep their hashes (hex SHA-256 of the
// raw body): a repeat of such a key is compared as it was then.
const requestHashVersion = "r2"

// personalFieldNames are the debtor's personal fields of a handover's
// customer and of a contact change (see claimCustomer.personalFields):
// customerNumber is not one of them.
var personalFieldNames = []string{"type", "preferredLanguage", "salutation", "title", "firstName", "middleName",
	"lastName", "companyName", "dateOfBirth", "addresses", "communicationChannels", "bankAccounts"}

// debtorFields says where a request's personal fields are and whose they
// are: at names the object holding them ("" for the body itself), keyID
// the data key they were just sealed with (empty for a repeat, whose key
// is the one its first request's hash names).
type debtorFields struct {
	at, creditor, customer, keyID string
}

// requestHash is the hash a request with an Idempotency-Key is remembered
// by, as described above. actor and key name the key's record, so that a
// repeat is hashed as its first request was.
func (s *Server) requestHash(c echo.Context, actor, key string, body []byte, d *debtorFields) (string, error) {
	method, path := c.Request().Method, c.Request().URL.Path
	rec, seen := s.commands.Recorded(actor, key)
	if seen && !strings.HasPrefix(rec.RequestHash, requestHashVersion+".") {
		h := sha256.New() // recorded before requestHashVersion: as it was hashed then
		fmt.Fprintf(h, "%s\n%s\n", method, path)
		h.Write(body)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	at := ""
	if d != nil {
		at = d.at
	}
	public, personal := canonicalRequest(body, at)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", requestHashVersion, method, path)
	h.Write(public)
	out := requestHashVersion + "." + hex.EncodeToString(h.Sum(nil))
	if d == nil || personal == nil {
		return out, nil
	}
	keyID, firstMAC := d.keyID, ""
	if seen { // a repeat: the personal part is keyed as the first one was
		parts := strings.Split(rec.RequestHash, ".")
		if len(parts) != 4 {
			return out + ".-", nil // the first request had no personal fields: another request
		}
		keyID, firstMAC = parts[2], parts[3]
	}
	if keyID == "" || s.personal == nil {
		return out + ".-", nil
	}
	mac, err := pii.Fingerprint(s.personal, d.creditor, d.customer, keyID, personal)
	switch {
	case errors.Is(err, pii.ErrErased) && seen:
		return out + "." + keyID + "." + firstMAC, nil // erased since: the personal part can no longer be compared
	case err != nil:
		s.logger.Error("keying a request's personal data failed", "err", err.Error())
		return "", newError(http.StatusServiceUnavailable, "key_store_unavailable", "the key store cannot read the debtor's data key right now; nothing was recorded")
	}
	return out + "." + keyID + "." + hex.EncodeToString(mac), nil
}

// canonicalRequest returns a body's canonical JSON without the personal
// fields of the object at names ("" for the body itself), and those
// personal fields (null ones left out) as canonical JSON of their own, nil
// when there are none. A body that is not JSON is returned as it is.
func canonicalRequest(body []byte, at string) (public, personal []byte) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers keep their text: no float64
	var v any
	if err := dec.Decode(&v); err != nil {
		return body, nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return body, nil
	}
	if obj, ok := v.(map[string]any); ok {
		holder := obj
		if at != "" {
			holder, _ = obj[at].(map[string]any)
		}
		fields := map[string]any{}
		for _, name := range personalFieldNames {
			if f, ok := holder[name]; ok {
				delete(holder, name)
				if f != nil {
					fields[name] = f
				}
			}
		}
		if len(fields) > 0 {
			personal = canonicalJSON(fields)
		}
	}
	return canonicalJSON(v), personal
}

// canonicalJSON encodes a decoded value with object keys sorted (as
// encoding/json does for maps), json.Number as its text, and no whitespace.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
