package store

import (
	"encoding/binary"
	"encoding/hex"
	"unsafe"
)

// parseUUID reads the canonical 36-character form the API server writes
// (8-4-4-4-12 lower-case hex digits). Storing 16 bytes instead of a string
// keeps per-event memory small; other auditIDs are kept as strings on the
// side.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	// Eight digits at a time (hexWord): a table lookup per digit was
	// the most of Prepare's fixed part.
	b := unsafe.Slice(unsafe.StringData(s), 36)
	le := binary.LittleEndian
	w0, ok0 := hexWord(le.Uint64(b[0:]))
	w1, ok1 := hexWord(uint64(le.Uint32(b[9:])) | uint64(le.Uint32(b[14:]))<<32)
	w2, ok2 := hexWord(uint64(le.Uint32(b[19:])) | uint64(le.Uint32(b[24:]))<<32)
	w3, ok3 := hexWord(le.Uint64(b[28:]))
	le.PutUint32(u[0:], w0)
	le.PutUint32(u[4:], w1)
	le.PutUint32(u[8:], w2)
	le.PutUint32(u[12:], w3)
	return u, ok0 && ok1 && ok2 && ok3
}

// hexWord decodes 8 lower-case hex digits, loaded little-endian (the
// first digit in the low byte), into 4 bytes (the first two digits' in
// the low byte), and reports whether all 8 were such digits. Each byte
// below 0x80 is tested against a bound by adding 0x80 less the bound:
// bit 7 of the sum is set if the byte is at least the bound, and no sum
// carries into the next byte.
func hexWord(x uint64) (uint32, bool) {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	if x&high != 0 {
		return 0, false
	}
	atLeast := func(lo uint64) uint64 { return (x + (0x80-lo)*ones) & high }
	digit := atLeast('0') &^ atLeast('9'+1)
	letter := atLeast('a') &^ atLeast('f'+1)
	v := x&(0x0f*ones) + letter>>7*9 // each byte's value: a-f are 1-6 in their low 4 bits
	v = (v<<4 | v>>8) & 0x00ff00ff00ff00ff
	v = (v | v>>8) & 0x0000ffff0000ffff
	v = v | v>>16
	return uint32(v), digit|letter == high
}

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
