package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

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
	}
	return body, nil
}

// decodeStrict decodes body into v, refusing unknown fields, wrong types,
// duplicate keys and trailing data, with a message that names the field.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusBadRequest, "body_required", "a JSON body is required")
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

// errStopWalk ends checkDuplicateKeys' walk at the first malformed token:
// the real decode reports the syntax error, with its position.
var errStopWalk = errors.New("stop")

// checkDuplicateKeys refuses an object that names one key twice, at any
// depth: encoding/json would silently keep the last.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return errStopWalk
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return errStopWalk
				}
				k, _ := kt.(string)
				if seen[k] {
					field := strings.TrimPrefix(path+"."+k, ".")
					return newError(http.StatusBadRequest, "duplicate_key", fmt.Sprintf("the key %q appears twice", field), domain.FieldError{Field: field, Message: "appears twice"})
				}
				seen[k] = true
				if err := walk(path + "." + k); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return errStopWalk
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return errStopWalk
			}
		}
		return nil
	}
	if err := walk(""); err != nil && !errors.Is(err, errStopWalk) {
		return err
	}
	return nil
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
