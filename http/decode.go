package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// readBody reads the request body within MaxBodyBytes and checks that a
// non-empty body is JSON.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, newError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
	}
	if err != nil {
		return nil, newError(http.StatusBadRequest, "unreadable_body", "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		mt, _, perr := mime.ParseMediaType(ct)
		if perr != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, newError(http.StatusUnsupportedMediaType, "unsupported_media_type", fmt.Sprintf("the body must be application/json, not %q", ct))
		}
		if err := checkDepth(body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// decodeStrict decodes body into v, refusing unknown fields, wrong types,
// duplicate keys and trailing data, with a message that names the field.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusBadRequest, "body_required", "a JSON body is required")
	}
	if err := checkDepth(body); err != nil {
		return err
	}
	if err := checkDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, "trailing_data", "the body holds data after its JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return newError(http.StatusBadRequest, "malformed_json", fmt.Sprintf("the body is not valid JSON (at byte %d): %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return newError(http.StatusBadRequest, "wrong_type", fmt.Sprintf("%s must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value),
			domain.FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)})
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, "malformed_json", "the body ends before its JSON value does")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newError(http.StatusBadRequest, "unknown_field", fmt.Sprintf("unknown field %q", name), domain.FieldError{Field: name, Message: "is not a field of this request"})
	}
	var fe *domain.Error
	if errors.As(err, &fe) {
		return fe
	}
	return newError(http.StatusBadRequest, "malformed_json", err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	default:
		return "a " + k
	}
}

// MaxJSONDepth bounds how deeply a request body may nest arrays and objects.
// No body of this API needs more than five levels; the bound is checked by a
// byte scan before any decoder sees the body, so a body of a million '['
// costs one pass and no memory.
const MaxJSONDepth = 10

// checkDepth refuses a body that nests arrays and objects deeper than
// MaxJSONDepth. It looks only at brackets outside strings; whether the body
// is valid JSON is the decoder's question.
func checkDepth(body []byte) error {
	depth, inString, escaped := 0, false, false
	for _, b := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '[' || b == '{':
			if depth++; depth > MaxJSONDepth {
				return newError(http.StatusBadRequest, "too_deep",
					fmt.Sprintf("the body nests arrays and objects more than %d levels deep", MaxJSONDepth))
			}
		case b == ']' || b == '}':
			depth--
		}
	}
	return nil
}

// errStopWalk ends checkDuplicateKeys' walk at the first malformed token:
// the real decode reports the syntax error, with its position.
var errStopWalk = errors.New("stop")

// frame is one open array or object of the duplicate-key walk. Paths are
// built from the frames only when a duplicate is reported.
type frame struct {
	object  bool
	wantKey bool            // an object expects a key (or its end) next
	seen    map[string]bool // an object's keys so far, case-folded
	key     string          // an object's current key
	index   int             // an array's current index
}

// checkDuplicateKeys refuses an object that names one key twice, at any
// depth, also when the two differ only in case: encoding/json would
// silently keep the last, and it matches field names case-insensitively.
// checkDepth has bounded the nesting before this runs.
func checkDuplicateKeys(body []byte) error {
	if err, decided := duplicateKeysASCII(body); decided {
		return err
	}
	return duplicateKeysByTokens(body)
}

// duplicateKeysByTokens is checkDuplicateKeys by encoding/json's tokens:
// any body, at a dozen allocations a token.
func duplicateKeysByTokens(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	// valueDone moves the innermost frame past the value just read.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed JSON: the real decode reports it, with its position
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			top := &stack[n-1]
			if k, isKey := tok.(string); isKey {
				folded := foldKey(k)
				if top.seen[folded] {
					return duplicateKey(stack[:n-1], k)
				}
				top.seen[folded], top.key, top.wantKey = true, k, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// maxScannedKeys bounds the keys of one object that duplicateKeysASCII
// compares pairwise; an object with more goes to the tokens' walk, whose
// sets of keys cost no more per key however many there are.
const maxScannedKeys = 32

// duplicateKeysASCII is checkDuplicateKeys without allocating, for the
// bodies every client sends: valid JSON, in ASCII, with no escape. For
// those, encoding/json's tokens are the bytes between the quotes, and two
// keys fold alike exactly when they are equal but for ASCII case, so a scan
// of the bytes finds what the tokens' walk finds, and the same first
// duplicate. decided is false for any other body (and for an object of more
// than maxScannedKeys keys): the tokens' walk decides it.
// TestDuplicateKeysScanAgreesWithTokens and FuzzDuplicateKeys hold it to that.
func duplicateKeysASCII(body []byte) (err error, decided bool) {
	for _, b := range body {
		if b >= 0x80 || b == '\\' {
			return nil, false
		}
	}
	if !json.Valid(body) {
		return nil, false
	}
	type open struct {
		object  bool
		wantKey bool
		keys    int // where its keys start in spans
		key     [2]int
		index   int
	}
	var stackBuf [MaxJSONDepth + 1]open
	var spanBuf [64][2]int
	stack, spans := stackBuf[:0], spanBuf[:0]
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '"':
			end := i + 1 + bytes.IndexByte(body[i+1:], '"') // valid, unescaped: the string ends at the next quote
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				top := &stack[n-1]
				k := body[i+1 : end]
				if len(spans)-top.keys >= maxScannedKeys {
					return nil, false
				}
				for _, sp := range spans[top.keys:] {
					if asciiEqualFold(body[sp[0]:sp[1]], k) {
						path := make([]frame, 0, n-1)
						for _, o := range stack[:n-1] {
							path = append(path, frame{object: o.object, key: string(body[o.key[0]:o.key[1]]), index: o.index})
						}
						return duplicateKey(path, string(k)), true
					}
				}
				spans = append(spans, [2]int{i + 1, end})
				top.key, top.wantKey = [2]int{i + 1, end}, false
			} else {
				valueDone()
			}
			i = end
		case '{', '[':
			stack = append(stack, open{object: c == '{', wantKey: c == '{', keys: len(spans)})
		case '}', ']':
			spans = spans[:stack[len(stack)-1].keys]
			stack = stack[:len(stack)-1]
			valueDone()
		case ',':
			if n := len(stack); n > 0 && !stack[n-1].object {
				stack[n-1].index++
			}
		case ':', ' ', '\t', '\n', '\r':
		default: // a number, true, false or null: to its last byte
			for i+1 < len(body) && strings.IndexByte(",]} \t\n\r", body[i+1]) < 0 {
				i++
			}
			valueDone()
		}
	}
	return nil, true
}

// asciiEqualFold is strings.EqualFold for ASCII.
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// duplicateKey is the refusal of key, named inside the open frames, seen
// twice in its object.
func duplicateKey(frames []frame, key string) error {
	field := keyPath(frames, key)
	return newError(http.StatusBadRequest, "duplicate_key", fmt.Sprintf("the key %q appears twice", field),
		domain.FieldError{Field: field, Message: "appears twice (keys that differ only in case are the same key)"})
}

// keyPath names key inside the open frames, as field errors do: a.b[2].c.
func keyPath(frames []frame, key string) string {
	var b strings.Builder
	for _, f := range frames {
		if f.object {
			b.WriteString("." + f.key)
		} else {
			fmt.Fprintf(&b, "[%d]", f.index)
		}
	}
	b.WriteString("." + key)
	return strings.TrimPrefix(b.String(), ".")
}

// foldKey maps a key to one representative of its case-folding class, so two
// keys fold alike exactly when strings.EqualFold holds between them.
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, k)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// parseAmount reads an amount of a JSON body: a JSON number or string, as
// domain.ParseAmount reads it. Any other JSON value (true, an array, an
// object) is a wrong type, 400 as for every other field; null or absent is
// a missing amount (domain.ParseAmount: 422).
func parseAmount(raw json.RawMessage, currency, field string) (decimal.Decimal, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 {
		switch t[0] {
		case '[', '{', 't', 'f':
			kind := map[byte]string{'[': "an array", '{': "an object", 't': "a boolean", 'f': "a boolean"}[t[0]]
			msg := "must be a JSON number or string, not " + kind
			return decimal.Decimal{}, newError(http.StatusBadRequest, "wrong_type", field+" "+msg, domain.FieldError{Field: field, Message: msg})
		}
	}
	return domain.ParseAmount(raw, currency, field)
}
