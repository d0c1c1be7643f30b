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

var (
	minorUnits = map[string]int32{}
	codes      = map[string]string{} // each code, to itself
	// Published is the publication date of the embedded table.
	Published string
)

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
		if old, seen := minorUnits[e.Code]; seen && old != int32(n) {
			panic(fmt.Sprintf("iso4217: %s has minor units %d and %d", e.Code, old, n))
		}
		minorUnits[e.Code] = int32(n)
		codes[e.Code] = e.Code
	}
}

// Code returns the code b spells, as a string shared by every caller,
// and whether ISO 4217 lists it with a minor unit: a decoder reading a
// currency code need not allocate its own copy.
func Code(b []byte) (string, bool) {
	c, ok := codes[string(b)]
	return c, ok
}

// MinorUnits returns the number of decimals of a currency's minor unit, and
// whether ISO 4217 lists the code (in upper case) with one.
func MinorUnits(code string) (int32, bool) {
	n, ok := minorUnits[code]
	return n, ok
}

// Codes returns the number of currencies known.
func Codes() int { return len(minorUnits) }
