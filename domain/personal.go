package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a debtor's personal data (a claim handover's customer, a contact
// change). The data is sealed, so nothing downstream can check it: what a
// client sends is what every later read of it returns, and what the audit
// trail and the dashboard show. "Put a limit on everything."
const (
	// MaxPersonalText bounds one personal string (a name, a street, an
	// e-mail address), in characters.
	MaxPersonalText = 200
	// MaxPersonalItems bounds each of addresses, communicationChannels and
	// bankAccounts.
	MaxPersonalItems = 10
	// MaxPersonalItemFields bounds the fields of one address, channel or
	// bank account.
	MaxPersonalItemFields = 16
	// maxPersonalErrors bounds the field errors one refusal lists.
	maxPersonalErrors = 50
)

// Customer types, as the collection API names them.
const (
	CustomerPerson  = "PERSON"
	CustomerCompany = "COMPANY"
)

// PersonalFields are the personal fields of a debtor, in the order a
// refusal lists them: every field of a handover's customer but its number.
var PersonalFields = []string{"type", "preferredLanguage", "salutation", "title", "firstName", "middleName", "lastName",
	"companyName", "dateOfBirth", "addresses", "communicationChannels", "bankAccounts"}

var (
	languagePattern  = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$`) // BCP 47: de, de-DE, zh-Hant-TW
	itemFieldPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	countryPattern   = regexp.MustCompile(`^[A-Z]{2}$`)
	channelPattern   = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)
	ibanPattern      = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)
)

// CheckPersonalData checks a debtor's personal fields, given as one JSON
// object (null fields left out), on the day now falls on. prefix is the
// object's path in the request ("customer." in a handover, "" in a contact
// change), so that each error names the field as the client sent it
// (customer.addresses[3].city). Every problem is listed, up to a bound.
func CheckPersonalData(data []byte, now time.Time, prefix string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return Invalid(FieldError{Field: strings.TrimSuffix(prefix, "."), Message: "must be an object"})
	}
	c := personalCheck{prefix: prefix, now: now}
	for _, name := range PersonalFields {
		raw, ok := fields[name]
		if !ok || kindOf(raw) == "null" {
			continue
		}
		switch name {
		case "type":
			c.enum(name, raw, CustomerPerson, CustomerCompany)
		case "preferredLanguage":
			if s, ok := c.text(name, raw); ok && !languagePattern.MatchString(s) {
				c.add(name, "must be a language tag such as de or de-DE")
			}
		case "dateOfBirth":
			c.date(name, raw)
		case "addresses", "communicationChannels", "bankAccounts":
			c.items(name, raw)
		default:
			c.text(name, raw)
		}
	}
	for name := range fields {
		if !isPersonalField(name) {
			c.add(name, "is not a personal field")
		}
	}
	if len(c.errs) > 0 {
		return Invalid(c.errs...)
	}
	return nil
}

func isPersonalField(name string) bool {
	for _, n := range PersonalFields {
		if n == name {
			return true
		}
	}
	return false
}

type personalCheck struct {
	prefix string
	now    time.Time
	errs   []FieldError
}

func (c *personalCheck) add(field, msg string) {
	if len(c.errs) < maxPersonalErrors {
		c.errs = append(c.errs, FieldError{Field: c.prefix + field, Message: msg})
	}
}

// kindOf names a JSON value's type by its first byte.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// text checks a one-line personal string: 1 to MaxPersonalText characters,
// with no control characters, invisible formatting (such as bidirectional
// overrides) or line separators, as a customer number.
func (c *personalCheck) text(field string, raw json.RawMessage) (string, bool) {
	var s string
	if kind := kindOf(raw); kind != "a string" || json.Unmarshal(raw, &s) != nil {
		c.add(field, "must be a string, not "+kind)
		return "", false
	}
	switch {
	case strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > MaxPersonalText:
		c.add(field, fmt.Sprintf("must be 1 to %d characters, not blank", MaxPersonalText))
	case !validName(s):
		c.add(field, "must not contain control characters, invisible formatting (such as bidirectional overrides) or line separators")
	default:
		return s, true
	}
	return "", false
}

func (c *personalCheck) enum(field string, raw json.RawMessage, allowed ...string) {
	s, ok := c.text(field, raw)
	if !ok {
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	c.add(field, "must be "+strings.Join(allowed, " or "))
}

// date checks a date of birth: a real YYYY-MM-DD date, not after today
// anywhere on Earth (UTC+14), so a debtor born today in Kiribati is no error.
func (c *personalCheck) date(field string, raw json.RawMessage) {
	s, ok := c.text(field, raw)
	if !ok {
		return
	}
	d, ok := ParseDate(s)
	switch {
	case !ok:
		c.add(field, "must be a real date, YYYY-MM-DD")
	case d.After(c.now.UTC().Add(14 * time.Hour)):
		c.add(field, "must not be in the future")
	}
}

// items checks addresses, communicationChannels or bankAccounts: an array
// of at most MaxPersonalItems flat objects, whose values are strings (one
// line each, as text), numbers, booleans or null.
func (c *personalCheck) items(field string, raw json.RawMessage) {
	var list []json.RawMessage
	if kind := kindOf(raw); kind != "an array" || json.Unmarshal(raw, &list) != nil {
		c.add(field, "must be an array, not "+kind)
		return
	}
	if len(list) > MaxPersonalItems {
		c.add(field, fmt.Sprintf("at most %d items, not %d", MaxPersonalItems, len(list)))
		return
	}
	for i, item := range list {
		path := fmt.Sprintf("%s[%d]", field, i)
		var obj map[string]json.RawMessage
		if kind := kindOf(item); kind != "an object" || json.Unmarshal(item, &obj) != nil {
			c.add(path, "must be an object, not "+kind)
			continue
		}
		if len(obj) > MaxPersonalItemFields {
			c.add(path, fmt.Sprintf("at most %d fields", MaxPersonalItemFields))
			continue
		}
		c.item(field, path, obj)
	}
}

func (c *personalCheck) item(field, path string, obj map[string]json.RawMessage) {
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		raw, f := obj[name], path+"."+name
		if !itemFieldPattern.MatchString(name) {
			c.add(path, "field names are 1 to 64 letters, digits or '_', starting with a letter")
			continue
		}
		switch kind := kindOf(raw); kind {
		case "a string":
			if s, ok := c.text(f, raw); ok {
				c.known(field, f, name, s)
			}
		case "a number":
			if len(raw) > MaxIdentifierLen {
				c.add(f, fmt.Sprintf("a number of at most %d characters", MaxIdentifierLen))
			}
		case "a boolean", "null":
		default:
			c.add(f, "must be a string, number, boolean or null, not "+kind)
		}
	}
}

// known checks the format of the item fields whose format is known.
func (c *personalCheck) known(field, f, name, s string) {
	switch {
	case name == "countryCode" && !countryPattern.MatchString(s):
		c.add(f, "must be an ISO 3166-1 alpha-2 code such as DE")
	case field == "communicationChannels" && name == "type" && !channelPattern.MatchString(s):
		c.add(f, "must be a channel type such as EMAIL or PHONE")
	case field == "bankAccounts" && name == "iban" && !ValidIBAN(s):
		c.add(f, "must be an IBAN (ISO 13616), without spaces")
	}
}

// ValidIBAN reports whether s is an IBAN in its electronic form (no spaces)
// whose check digits are right (ISO 7064 MOD 97-10).
func ValidIBAN(s string) bool {
	if !ibanPattern.MatchString(s) || s[2:4] < "02" || s[2:4] > "98" { // 00, 01 and 99 are never check digits
		return false
	}
	r := 0
	for _, ch := range s[4:] + s[:4] {
		v := int(ch - '0')
		if ch >= 'A' {
			v = int(ch-'A') + 10
		}
		if v >= 10 {
			r = (r*100 + v) % 97
		} else {
			r = (r*10 + v) % 97
		}
	}
	return r == 1
}
