package plainjson

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlain(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":"b"}`: true, `{"a":"é"}`: true, `{} `: true,
		`{"a":"\u00e9"}`: false, `{"a":"\n"}`: false, "{\n}": false, "{\"a\":\"\t\"}": false, "{\"a\":\"\xff\"}": false,
	} {
		assert.Equal(t, want, Plain([]byte(in)), "%q", in)
	}
}

// TestPlainWordByWord holds Plain's eight bytes at a time to the check byte
// by byte: every byte value, at every place of texts of one to twenty
// bytes around it, and each byte value beside every other in one word.
func TestPlainWordByWord(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for at := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[at] = byte(c)
				require.Equal(t, plainBytes(b), Plain(b), "%q", b)
			}
		}
	}
	for c := range 256 {
		for d := range 256 {
			b := []byte{'{', '"', byte(c), byte(d), 'x', '"', ':', '}'}
			require.Equal(t, plainBytes(b), Plain(b), "%q", b)
		}
	}
	// Valid UTF-8 of two, three and four bytes, and a truncated one.
	for _, s := range []string{"{\"a\":\"é\"}", "{\"a\":\"€ and more\"}", "{\"🙂🙂🙂\"}", "{\"a\":\"\xe2\x82\"}"} {
		require.Equal(t, plainBytes([]byte(s)), Plain([]byte(s)), "%q", s)
	}
}

// FuzzPlain holds Plain to plainBytes on any text.
func FuzzPlain(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, "{\"a\":\"é\"}", `{"a":"\u00e9"}`, "{\n}", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if plainBytes(b) != Plain(b) {
			t.Fatalf("%q: Plain %v, byte by byte %v", b, Plain(b), plainBytes(b))
		}
	})
}

func TestFields(t *testing.T) {
	names := []string{"a", "b"}
	visit := func(in string, refuse string) (map[string]string, bool) {
		got := map[string]string{}
		ok := Fields(Value(in), names, func(i int, v Value) bool {
			require.True(t, v.IsString(), "%s", v)
			got[names[i]] = string(v.Str())
			return names[i] != refuse
		})
		return got, ok
	}
	got, ok := visit(`{"b":"2","a":"1"}`, "")
	assert.True(t, ok)
	assert.Equal(t, map[string]string{"a": "1", "b": "2"}, got)
	_, ok = visit(`{"a":"1","c":"3"}`, "")
	assert.False(t, ok, "a key not named")
	_, ok = visit(`{"A":"1"}`, "")
	assert.False(t, ok, "a key in another case")
	_, ok = visit(`{"a":"1","a":"2"}`, "")
	assert.False(t, ok, "a key twice")
	_, ok = visit(`{"a":"1","b":"2"}`, "b")
	assert.False(t, ok, "a value set refuses")

	// In any order (each key is looked for from the name after the last
	// key's, round to the start): every key found, each once.
	names = []string{"a", "b", "c"}
	for _, in := range []string{`{"a":"1","b":"2","c":"3"}`, `{"c":"3","a":"1","b":"2"}`, `{"b":"2","c":"3","a":"1"}`,
		`{"c":"3","b":"2","a":"1"}`, `{"a":"1","c":"3","b":"2"}`, `{"b":"2","a":"1","c":"3"}`} {
		got, ok := visit(in, "")
		assert.True(t, ok, in)
		assert.Equal(t, map[string]string{"a": "1", "b": "2", "c": "3"}, got, in)
	}
	_, ok = visit(`{"c":"3","a":"1","c":"4"}`, "")
	assert.False(t, ok, "a key twice, after the search went round")
	_, ok = visit(`{"c":"3","d":"4"}`, "")
	assert.False(t, ok, "a key not named, after the last name")
}

func TestAppendStringAndTimeAreJSONMarshal(t *testing.T) {
	for _, s := range []string{"", "plain 1-2", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "é", "\u2028", "\xff", "🙂"} {
		want, _ := json.Marshal(s)
		assert.Equal(t, string(want), string(AppendString([]byte("x"), s))[1:], "%q", s)
	}
	at := time.Date(2026, 12, 5, 1, 2, 3, 4500, time.UTC)
	// Taken: whole-minute zones of years 0-9999. Left to encoding/json:
	// the years it refuses, and (to be safe) zones of seconds.
	for tm, take := range map[time.Time]bool{at: true, {}: true, at.In(time.FixedZone("plus", 90*60)): true,
		at.In(time.FixedZone("secs", 59)): false, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC): false,
		time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC): false} {
		want, err := json.Marshal(tm)
		got, ok := AppendTime(nil, tm)
		assert.Equal(t, take, ok, "%s", tm)
		if ok {
			assert.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		}
	}
}
