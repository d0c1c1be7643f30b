package http

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// Keys are the configured API keys. Only their SHA-256 digests are kept.
type Keys struct {
	creditors []keyEntry
	agency    *keyEntry
}

type keyEntry struct {
	principal string
	digest    [32]byte
}

// reservedCreditorIDs are the principals the log already names other than
// creditors: a creditor of that id would share the agency key's idempotency
// keys and in-flight limit, and be taken for the ledger's own actions. Any
// spelling in other case is refused too, so no id reads like one of them.
var reservedCreditorIDs = []string{journal.ActorAgency, journal.ActorSystem}

// ParseKeys parses LEDGER_API_KEYS ("creditorID=key,…") and LEDGER_AGENCY_KEY.
// Errors never quote a key.
func ParseKeys(apiKeys, agencyKey string) (Keys, error) {
	var k Keys
	seen := map[string]bool{}
	for i, pair := range strings.Split(apiKeys, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		id, key, ok := strings.Cut(pair, "=")
		if !ok || !domain.ValidCreditorID(id) || len(key) < 16 {
			return Keys{}, fmt.Errorf("LEDGER_API_KEYS entry %d must be creditorID=key, with a creditor id of letters, digits, '.', '_' or '-' and a key of at least 16 characters", i+1)
		}
		if slices.ContainsFunc(reservedCreditorIDs, func(r string) bool { return strings.EqualFold(r, id) }) {
			return Keys{}, fmt.Errorf("LEDGER_API_KEYS entry %d names creditor %q, which is reserved (the log records the agency and the ledger itself as %q and %q): choose another creditor id", i+1, id, journal.ActorAgency, journal.ActorSystem)
		}
		if seen[id] {
			return Keys{}, fmt.Errorf("LEDGER_API_KEYS names creditor %q twice", id)
		}
		seen[id] = true
		k.creditors = append(k.creditors, keyEntry{principal: id, digest: sha256.Sum256([]byte(key))})
	}
	if agencyKey = strings.TrimSpace(agencyKey); agencyKey != "" {
		if len(agencyKey) < 16 {
			return Keys{}, fmt.Errorf("LEDGER_AGENCY_KEY must be at least 16 characters")
		}
		k.agency = &keyEntry{principal: "agency", digest: sha256.Sum256([]byte(agencyKey))}
	}
	return k, nil
}

// Empty reports whether no key is configured.
func (k Keys) Empty() bool { return len(k.creditors) == 0 && k.agency == nil }

// DevelopmentKeys creates the development creditor "demo" and an agency
// key, each random, for a ledger started with no keys configured.
func DevelopmentKeys() (keys Keys, creditorKey, agencyKey string) {
	random := func(prefix string) string {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		return prefix + hex.EncodeToString(b)
	}
	creditorKey, agencyKey = random("dev_"), random("devagency_")
	keys = Keys{
		creditors: []keyEntry{{principal: "demo", digest: sha256.Sum256([]byte(creditorKey))}},
		agency:    &keyEntry{principal: "agency", digest: sha256.Sum256([]byte(agencyKey))},
	}
	return keys, creditorKey, agencyKey
}

// principal is who a request is made by.
type principal struct {
	id   string
	kind string // journal.ActorCreditor or journal.ActorAgency
}

// identify finds the principal of a presented key. Every configured key is
// compared, in constant time, whatever matches: the time taken says nothing
// about which key, or which prefix, was right.
func (k Keys) identify(presented string) (principal, bool) {
	d := sha256.Sum256([]byte(presented))
	var found principal
	match := 0
	for _, e := range k.creditors {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			found, match = principal{id: e.principal, kind: journal.ActorCreditor}, 1
		}
	}
	if k.agency != nil && subtle.ConstantTimeCompare(d[:], k.agency.digest[:]) == 1 {
		found, match = principal{id: k.agency.principal, kind: journal.ActorAgency}, 1
	}
	return found, match == 1
}

const principalKey = "ledger.principal"

// authenticate resolves the Authorization header; kinds are the principal
// kinds the route takes.
func (s *Server) authenticate(kinds ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || token == "" {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
				return newError(http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <key>")
			}
			p, found := s.keys.identify(strings.TrimSpace(token))
			if !found {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="ledger", error="invalid_token"`)
				return newError(http.StatusUnauthorized, "unauthenticated", "the key is not known")
			}
			if !slices.Contains(kinds, p.kind) {
				return newError(http.StatusForbidden, "forbidden", fmt.Sprintf("this route is for %s keys", strings.Join(kinds, " or ")))
			}
			// One key may not hold all of the server: bound its requests in flight.
			v, _ := s.inFlight.LoadOrStore(p.id, new(atomic.Int64))
			n := v.(*atomic.Int64)
			if n.Add(1) > s.maxPerKey {
				n.Add(-1)
				c.Response().Header().Set("Retry-After", "1")
				return newError(http.StatusTooManyRequests, "too_many_requests",
					fmt.Sprintf("this key has %d requests in flight already; wait for some to finish", s.maxPerKey))
			}
			defer n.Add(-1)
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

func who(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}
