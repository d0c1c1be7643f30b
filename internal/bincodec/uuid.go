package bincodec

// ParseCanonicalUUID parses s when it is a UUID as uuid.UUID.String writes
// it: 36 characters, lower-case hexadecimal digits with hyphens at 8, 13, 18
// and 23. Exactly those strings parse to a UUID whose String gives them back,
// so a value kept as the 16 bytes (the views' item texts, the embedded
// store's cache of stream revisions) stands for one text only.
func ParseCanonicalUUID(s string) (id [16]byte, ok bool) {
	if len(s) != 36 {
		return id, false
	}
	n := 0
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return id, false
			}
			continue
		}
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		default:
			return id, false
		}
		if n%2 == 0 {
			id[n/2] = v << 4
		} else {
			id[n/2] |= v
		}
		n++
	}
	return id, true
}
