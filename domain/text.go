package domain

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// claimNumberPattern: claim numbers appear in URL paths
// (/v1/claims/{claimNumber}/…), so they may not contain '/'. Other numbers
// (invoices, contracts, payments, waivers) only travel in bodies and may.
var claimNumberPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// claimNumberRule is what ValidClaimNumber asks, as a refusal says it.
const claimNumberRule = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidClaimNumber reports whether s may be a new claim number. Placements
// made before the rule may have a '/' in theirs; they are reachable by
// placement id.
func ValidClaimNumber(s string) bool { return claimNumberPattern.MatchString(s) }

// validName reports whether s may be a free-form identifier that people
// read, such as a customer number: valid UTF-8 with no control characters,
// no invisible formatting (bidirectional overrides and isolates, zero-width
// characters: Unicode category Cf) and no line or paragraph separators, so
// what a screen shows is what was stored.
func validName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

// textRule is what validText asks of free text, as a refusal says it.
const textRule = "must not contain control characters other than tab and line breaks, nor bidirectional overrides or isolates"

// validText reports whether s may be free text (a description, a call's
// outcome): valid UTF-8 with no control characters but tab and line breaks,
// and no bidirectional embeddings, overrides or isolates (U+202A–U+202E,
// U+2066–U+2069), which make a screen show text in another order than it
// was stored ("Trojan Source"). Right-to-left marks are text, and are kept.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' || isBidiControl(r) {
			return false
		}
	}
	return true
}

// isBidiControl reports whether r embeds, overrides or isolates a
// bidirectional run: U+202A–U+202E and U+2066–U+2069.
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

// oneOf lists names as a sentence says them: "a, b or c".
func oneOf[S ~string](names []S) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n)
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}
