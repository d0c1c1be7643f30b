// Package iso4217 knows the currencies of ISO 4217 and their minor units,
// from the standard's own table ("List One", published by SIX, the
// maintenance agency), embedded verbatim in list-one.xml. `make currencies`
// replaces it with the newest publication.
//
// Only currencies with a minor unit are known: the entries whose minor unit
// is "N.A." (gold, silver and other metals, special drawing rights, the
// testing code XTS and XXX, "no currency") are not money a debt is owed in.
package iso4217

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"strconv"
)

//go:embed list-one.xml
var listOne []byte

type table struct {
	Published string `xml:"Pblshd,attr"`
	Entries   []struct {
		Code       string `xml:"Ccy"`
		MinorUnits string `xml:"CcyMnrUnts"`
	} `xml:"CcyTbl>CcyNtry"`
}

// The currencies known, each once, and where each code is among them: a
// code of three upper-case letters is a number below 26³ (index), and
// byIndex holds 1 + its place in known, or 0 for a code not listed. A
// lookup is an array's read rather than a map's hash and probe: every
// amount the ledger decodes, folds and checks looks its currency up.
var (
	known   []currency
	byIndex [26 * 26 * 26]uint8
	// Published is the publication date of the embedded table.
	Published string
)

type currency struct {
	code  string
	units int32
}

// index is where a code of three upper-case letters is in byIndex; false
// for any other string.
func index[S string | []byte](code S) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	i := 0
	for k := range 3 {
		c := code[k]
		if c < 'A' || c > 'Z' {
			return 0, false
		}
		i = i*26 + int(c-'A')
	}
	return i, true
}

// lookup returns the currency a code spells, or nil.
func lookup[S string | []byte](code S) *currency {
	if i, ok := index(code); ok && byIndex[i] != 0 {
		return &known[byIndex[i]-1]
	}
	return nil
}

func init() {
	var t table
	if err := xml.Unmarshal(listOne, &t); err != nil {
		panic(fmt.Sprintf("iso4217: the embedded list-one.xml does not parse: %v", err))
	}
	Published = t.Published
	for _, e := range t.Entries {
		if e.Code == "" {
			continue // an entry for a place with no universal currency (Antarctica)
		}
		n, err := strconv.Atoi(e.MinorUnits)
		if err != nil {
			continue // N.A.
		}
		i, ok := index(e.Code)
		if !ok {
			panic(fmt.Sprintf("iso4217: %q is not a code of three upper-case letters", e.Code))
		}
		if c := lookup(e.Code); c != nil {
			if c.units != int32(n) {
				panic(fmt.Sprintf("iso4217: %s has minor units %d and %d", e.Code, c.units, n))
			}
			continue // listed again for another country
		}
		if len(known) == 255 {
			panic("iso4217: more than 255 currencies")
		}
		known = append(known, currency{e.Code, int32(n)})
		byIndex[i] = uint8(len(known))
	}
}

// Code returns the code b spells, as a string shared by every caller,
// and whether ISO 4217 lists it with a minor unit: a decoder reading a
// currency code need not allocate its own copy.
func Code(b []byte) (string, bool) {
	if c := lookup(b); c != nil {
		return c.code, true
	}
	return "", false
}

// MinorUnits returns the number of decimals of a currency's minor unit, and
// whether ISO 4217 lists the code (in upper case) with one.
func MinorUnits(code string) (int32, bool) {
	if c := lookup(code); c != nil {
		return c.units, true
	}
	return 0, false
}

// Codes returns the number of currencies known.
func Codes() int { return len(known) }
