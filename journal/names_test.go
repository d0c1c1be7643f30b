package journal

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStreamNamesAreUnambiguous feeds adversarial ids: no two (kind, ids)
// give one name. Format 1 named creditor acme's claim x-1 and creditor
// acme-x's claim 1 alike, and creditor "checkpoint"'s webhook stream was
// the reactor's checkpoint stream.
func TestStreamNamesAreUnambiguous(t *testing.T) {
	ids := []string{"acme", "acme-x", "x-1", "1", "x", "checkpoint", "format", "webhooks", "a:b", "a", "b", "a%3Ab",
		"a%b", "a/b", "a-b", "-", ":", "%", "", "Ä", "webhook", "claimnumber", "acme:x", "x:1", "ledger-format"}
	seen := map[string]string{}
	note := func(name, what string) {
		t.Helper()
		if other, dup := seen[name]; dup {
			t.Fatalf("%s and %s are both named %q", other, what, name)
		}
		seen[name] = what
	}
	for _, a := range ids {
		for _, b := range ids {
			note(ClaimStream(a, b), "claim "+a+"/"+b)
		}
		note(WebhookStream(a), "webhook "+a)
		note(WebhookProgressStream(a), "progress "+a)
		note(LedgerStream(a), "ledger "+a)
	}
	id := uuid.MustParse("3fa85f64-5717-4562-b3fc-2c963f66afa6")
	note(PlacementStream(id), "placement")

	assert.Equal(t, "claim-acme:x-1", ClaimStream("acme", "x-1"))
	assert.Equal(t, "claim-acme-x:1", ClaimStream("acme-x", "1"))
	assert.Equal(t, "claim-acme:DE%2F1", ClaimStream("acme", "DE/1"))
	assert.Equal(t, "webhookconfig-checkpoint", WebhookStream("checkpoint"))
	assert.Equal(t, "ledger-format", FormatStream)
	assert.Equal(t, "placement-3fa85f64-5717-4562-b3fc-2c963f66afa6", PlacementStream(id), "placement names did not change")
}

func TestParseStream(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  string
		parts []string
	}{
		{ClaimStream("acme-x", "a:b/c"), KindClaim, []string{"acme-x", "a:b/c"}},
		{WebhookStream("checkpoint"), KindWebhook, []string{"checkpoint"}},
		{PlacementStream(uuid.Nil), KindPlacement, []string{uuid.Nil.String()}},
		{"claimnumber-acme-x-1", LegacyKindClaim, []string{"acme-x-1"}},
		{"webhook-checkpoint", LegacyKindWebhook, []string{"checkpoint"}},
	} {
		kind, parts, err := ParseStream(tc.name)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.kind, kind, tc.name)
		assert.Equal(t, tc.parts, parts, tc.name)
	}
	for _, bad := range []string{"", "nokind", "-x", "claim-acme", "claim-a:b:c", "claim-a%2fb:c", "claim-a%41:b", "claim-a b:c",
		"claim-a%:b", "placement-a:b", "unknown-x", "claim-a%2:b"} {
		_, _, err := ParseStream(bad)
		assert.Error(t, err, "%q is not a name this package builds", bad)
	}
}

// FuzzStreamNames: two claim reservations get one name exactly when they
// are the same (creditor, claim), and the name parses back to them.
func FuzzStreamNames(f *testing.F) {
	f.Add("acme", "x-1", "acme-x", "1")
	f.Add("a:b", "c", "a", "b:c")
	f.Add("a%3A", "b", "a:", "b")
	f.Fuzz(func(t *testing.T, c1, n1, c2, n2 string) {
		a, b := ClaimStream(c1, n1), ClaimStream(c2, n2)
		if (a == b) != (c1 == c2 && n1 == n2) {
			t.Fatalf("(%q,%q) -> %q and (%q,%q) -> %q", c1, n1, a, c2, n2, b)
		}
		kind, parts, err := ParseStream(a)
		if err != nil || kind != KindClaim || len(parts) != 2 || parts[0] != c1 || parts[1] != n1 {
			t.Fatalf("%q parsed to %q %q %v", a, kind, parts, err)
		}
	})
}

// FuzzParseStreamIsCanonical: whatever name ParseStream takes (the legacy
// kinds aside) is the one name builds of the parts it gives back.
func FuzzParseStreamIsCanonical(f *testing.F) {
	for _, s := range []string{"claim-acme:x-1", "claim-a%3A:b", "claim-a%41:b", "claim-a%2f:b", "placement-" + uuid.Nil.String(), "debtor-a:b", "ledger-format"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, parts, err := ParseStream(s)
		if err != nil || kind == LegacyKindClaim || kind == LegacyKindWebhook {
			return
		}
		if got := name(kind, parts...); got != s {
			t.Fatalf("%q parsed to %q %q, which name builds as %q", s, kind, parts, got)
		}
	})
}

// A placement's stream name parses with one allocation (its parts).
func TestParseStreamOfAPlacementAllocatesOnce(t *testing.T) {
	s := PlacementStream(uuid.New())
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		if _, _, err := ParseStream(s); err != nil {
			t.Fatal(err)
		}
	}))
}
