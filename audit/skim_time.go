package audit

import "time"

// skimTime is parsePresent for Skim. The form the API server writes,
// "2006-01-02T15:04:05.000000Z", is checked a word at a time instead of a
// field at a time; anything else, or a date or time out of range, is left
// to parsePresent. FuzzSkimTime holds the two equal.
func skimTime(s string) (t time.Time, ok, bad bool) {
	if len(s) != len("2006-01-02T15:04:05.000000Z") {
		return parsePresent(s)
	}
	// The four words (the last overlaps the third) and, for each, the
	// bytes that are separators (the others are digits) and their values.
	const (
		f    = 0xf0f0f0f0f0f0f0f0
		zero = 0x3030303030303030
		six  = 0x0606060606060606
		s0   = 0xff0000ff00000000 // "2006-01-": '-' at 4 and 7
		v0   = '-'<<32 | '-'<<56
		s1   = 0x0000ff0000ff0000 // "02T15:04": 'T' at 2, ':' at 5
		v1   = 'T'<<16 | ':'<<40
		s2   = 0x00000000ff0000ff // ":05.0000": ':' at 0, '.' at 3
		v2   = ':' | '.'<<24
		s3   = 0xff000000000000ff // ".000000Z": '.' at 0, 'Z' at 7
		v3   = '.' | 'Z'<<56
	)
	x0, x1, x2, x3 := word(s[0:8]), word(s[8:16]), word(s[16:24]), word(s[19:27])
	// A digit byte has high nibble 3, and still has after adding 6.
	wrong := func(x, sep, v uint64) uint64 {
		d, z := x&^sep, zero&^sep
		return (x&sep ^ v) | (d&f ^ z) | ((d+six&^sep)&f ^ z)
	}
	if wrong(x0, s0, v0)|wrong(x1, s1, v1)|wrong(x2, s2, v2)|wrong(x3, s3, v3) != 0 {
		return parsePresent(s)
	}
	n := func(x uint64, k int) int { return int(x >> (8 * k) & 0xf) }
	year := n(x0, 0)*1000 + n(x0, 1)*100 + n(x0, 2)*10 + n(x0, 3)
	month := n(x0, 5)*10 + n(x0, 6)
	day := n(x1, 0)*10 + n(x1, 1)
	hour := n(x1, 3)*10 + n(x1, 4)
	minute := n(x1, 6)*10 + n(x1, 7)
	sec := n(x2, 1)*10 + n(x2, 2)
	micro := ((((n(x3, 1)*10+n(x3, 2))*10+n(x3, 3))*10+n(x3, 4))*10+n(x3, 5))*10 + n(x3, 6)
	if year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return parsePresent(s)
	}
	days := daysSinceEpoch(year, month, day)
	return time.Unix(days*86400+int64(hour*3600+minute*60+sec), int64(micro)*1000).UTC(), true, false
}

// word is the 8 bytes of s (len 8) as a little-endian word.
func word(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
