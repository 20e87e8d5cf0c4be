package store

import "encoding/hex"

// parseUUID reads the canonical 36-character form the API server writes
// (8-4-4-4-12 hex digits). Storing 16 bytes instead of a string keeps
// per-event memory small; other auditIDs are kept as strings on the side.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	// A table and fixed positions: no branch per digit (it was an eighth
	// of the store's time per event).
	var bad uint8
	for j, i := range uuidDigits {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo
	}
	return u, bad&0xf0 == 0
}

// uuidDigits are where each byte's two hex digits start in 8-4-4-4-12.
var uuidDigits = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue is a lower-case hex digit's value, 0xff for any other byte.
var hexValue = func() (t [256]uint8) {
	for i := range t {
		if v, ok := unhex(byte(i)); ok {
			t[i] = v
		} else {
			t[i] = 0xff
		}
	}
	return t
}()

// formatUUID is parseUUID's inverse. Lower-case hex is what the API server
// writes; an upper-case auditID is stored as an odd one to keep it exact.
func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
