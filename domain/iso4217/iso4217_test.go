package iso4217

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMinorUnits(t *testing.T) {
	for code, want := range map[string]int32{
		"EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "KWD": 3, "BHD": 3, "TND": 3, "IQD": 3, "LYD": 3, "OMR": 3,
		"CLF": 4, "UYW": 4, "HUF": 2, "LAK": 2, "RSD": 2, "SLE": 2, "VED": 2, "VES": 2, "ZWG": 2, "MRU": 2, "UGX": 0, "VND": 0,
		"XOF": 0, "XAF": 0, "CHE": 2, "BOV": 2, "MXV": 2, "UYI": 0,
	} {
		got, ok := MinorUnits(code)
		assert.True(t, ok, code)
		assert.Equal(t, want, got, code)
	}
	for _, code := range []string{"XAU", "XAG", "XDR", "XTS", "XXX", "DEM", "FRF", "eur", "EURO", "", "ZZZ"} {
		_, ok := MinorUnits(code)
		assert.False(t, ok, code)
	}
	assert.Greater(t, Codes(), 150)
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, Published, "the publication date of the embedded table")
	upper := regexp.MustCompile(`^[A-Z]{3}$`)
	for _, c := range known {
		assert.Regexp(t, upper, c.code)
		got, ok := MinorUnits(c.code)
		assert.True(t, ok, c.code)
		assert.Equal(t, c.units, got, c.code)
	}
	// Every string of three upper-case letters not listed is unknown.
	listed := 0
	for i := range 26 * 26 * 26 {
		code := string([]byte{byte('A' + i/676), byte('A' + i/26%26), byte('A' + i%26)})
		if _, ok := MinorUnits(code); ok {
			listed++
		}
	}
	assert.Equal(t, Codes(), listed)
}

// Code knows exactly the codes MinorUnits knows, and gives each as one
// shared string.
func TestCodeIsOneStringPerKnownCode(t *testing.T) {
	for _, c := range known {
		got, ok := Code([]byte(c.code))
		assert.True(t, ok, c.code)
		assert.Equal(t, c.code, got)
	}
	for _, code := range []string{"XAU", "XTS", "eur", "", "EURO", "EU", "E\x00R", "[UR", "@UR"} {
		_, ok := Code([]byte(code))
		assert.False(t, ok, code)
	}
	b := []byte("EUR")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Code(b) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = MinorUnits("EUR") }))
}
