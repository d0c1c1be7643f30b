package projections

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestItemCodecFormatsAreStable pins the stored bytes of one feed item,
// reconciliation entry and processed number: views on disk hold them, so a
// change to a codec (or to textWords, which is append only) that moves a
// byte needs a new format byte and a unit version, not an edit here.
func TestItemCodecFormatsAreStable(t *testing.T) {
	e := edgeEntries()[2]
	for name, got := range map[string][]byte{
		"feed item":        encodeFeedItem(nil, &edgeFeedItems()[2]),
		"entry":            encodeEntry(nil, &e),
		"processed number": encodeProcessed(nil, &edgeProcessed()[2], "EUR"),
	} {
		assert.Equal(t, stableFormats[name], hex.EncodeToString(got), name)
	}
}

var stableFormats = map[string]string{
	"feed item": "0163000000000000000000000000000000000101010101390101050201050c502d31e5010314c3bce282ac",
	"entry": "01cd010000000000000000000000000000000001050001f2c001000202110000000450e50101bd010201ffdfd6c06e0099b8" +
		"21010000000000000000000000000000000000000000000000000000000000000001",
	"processed number": "0105030101849d010444010c492d310199010101000003203132333435363738393031323334353637383930313233343536" +
		"373839302e35184147454e4359b5010905143130302e35e90101990101",
}
