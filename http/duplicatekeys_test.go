package http

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bodies the scan and the tokens' walk are compared on: duplicates at
// each depth, in arrays, differing in case, after other values, and bodies
// the scan must leave to the walk (escapes, non-ASCII, invalid JSON).
var duplicateKeyBodies = []string{
	`{"amount": "0.01"}`, `{"amount":1,"amount":2}`, `{"amount":1,"AMOUNT":2}`, `{"a":{"b":1,"B":2}}`,
	`{"a":[{"x":1},{"y":1,"Y":[1,2]}]}`, `[{"k":1},{"k":2},[{"k":1,"k":1}]]`, `{"a":"}","b":"{","a":0}`,
	`{"a":true,"b":null,"c":-1.5e3,"d":[],"e":{},"c":1}`, `{"a":{"a":{"a":1}},"b":{"a":2,"a":3}}`,
	`{"x\u0041":1,"xA":2}`, `{"k":1,"\u212a":2}`, `{"é":1,"É":2}`, `{"a":1,"a":2`, `{"a":1} {"b":1,"b":2}`,
	`{"a" : 1 , "A" : 2}`, "{\n\t\"a\":1,\r\n\"b\":[ 1 , 2 ,{\"c\":1,\"C\":2}]}", `"a"`, `12`, `[]`, `{}`, ``,
	`{"invoices":[{"invoiceNumber":"1"},{"invoiceNumber":"2","invoicenumber":"3"}]}`,
}

func sameDuplicateVerdict(t *testing.T, body string) {
	t.Helper()
	want := duplicateKeysByTokens([]byte(body))
	got, decided := duplicateKeysASCII([]byte(body))
	if !decided {
		return
	}
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "body %q", body)
	if want != nil {
		w, g := want.(*apiError), got.(*apiError)
		require.Equal(t, *w, *g, "body %q", body)
	}
}

// TestDuplicateKeysScanAgreesWithTokens: where the scan decides, it gives
// the tokens' walk's answer, to the field named; it decides the bodies
// clients send and leaves the others.
func TestDuplicateKeysScanAgreesWithTokens(t *testing.T) {
	for _, body := range duplicateKeyBodies {
		sameDuplicateVerdict(t, body)
	}
	for _, body := range []string{manyKeys(maxScannedKeys), `{"amount": "0.01"}`, `{"amount":1,"AMOUNT":2}`, `{"a":[{"x":1},{"y":1,"Y":[1,2]}]}`} {
		_, decided := duplicateKeysASCII([]byte(body))
		require.True(t, decided, "the scan decides %q", body)
	}
	for _, body := range []string{`{"x\u0041":1,"xA":2}`, `{"é":1,"É":2}`, `{"a":1,"a":2`, `{"a":1} {"b":1,"b":2}`,
		manyKeys(maxScannedKeys + 1)} {
		_, decided := duplicateKeysASCII([]byte(body))
		require.False(t, decided, "the scan leaves %q to the walk", body)
	}
	// Bodies made at random from keys that collide often.
	rng := rand.New(rand.NewPCG(7, 22))
	for range 20000 {
		sameDuplicateVerdict(t, randomJSON(rng, 0))
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = duplicateKeysASCII([]byte(`{"amount": "0.01", "paymentNumber": "P-1"}`)) }))
}

// manyKeys is an object of n distinct keys.
func manyKeys(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"k%d":1`, i))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func randomJSON(rng *rand.Rand, depth int) string {
	keys := []string{"a", "A", "b", "amount", "Amount", "c"}
	switch n := rng.IntN(10); {
	case depth < 4 && n < 3:
		var parts []string
		for range rng.IntN(5) {
			parts = append(parts, fmt.Sprintf("%q:%s", keys[rng.IntN(len(keys))], randomJSON(rng, depth+1)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case depth < 4 && n < 5:
		var parts []string
		for range rng.IntN(4) {
			parts = append(parts, randomJSON(rng, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case n < 7:
		return []string{`"x"`, `"{\"a\":1,\"a\":2}"`, `""`, `"]"`}[rng.IntN(4)]
	default:
		return []string{"1", "-0.5e2", "true", "false", "null"}[rng.IntN(5)]
	}
}

// FuzzDuplicateKeys: on any body, where the scan decides, it agrees with
// the tokens' walk.
func FuzzDuplicateKeys(f *testing.F) {
	for _, body := range duplicateKeyBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkDepth(body) != nil {
			return // refused before either runs
		}
		sameDuplicateVerdict(t, string(body))
	})
}
