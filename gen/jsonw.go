package gen

import (
	"time"

	"github.com/kaudit/kaudit/internal/jsonstr"
)

// This file holds the low-level appenders. They write JSON exactly as Go's
// encoding/json does with HTML escaping on (the default for json.Marshal and
// json.Encoder, which is what kube-apiserver's audit log backend uses).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, quotes included, as json.Marshal
// writes a Go string (invalid UTF-8 as \ufffd).
func appendString[S string | []byte](dst []byte, s S) []byte {
	return jsonstr.Append(dst, s, jsonstr.Escaped)
}

// quote returns s as a JSON string (used to pre-render static strings once).
func quote(s string) []byte { return appendString(nil, s) }

// appendTime appends t (unix microseconds, UTC) as metav1.MicroTime does:
// "2006-01-02T15:04:05.000000Z", quotes included.
func appendTime(dst []byte, us int64) []byte {
	sec := us / 1e6
	frac := us % 1e6
	if frac < 0 {
		frac += 1e6
		sec--
	}
	dst = append(dst, '"')
	dst = appendDateTime(dst, sec)
	dst = append(dst, '.')
	dst = appendPad(dst, frac, 6)
	return append(dst, 'Z', '"')
}

// appendSecTime appends a metav1.Time (second precision): "2006-01-02T15:04:05Z".
func appendSecTime(dst []byte, us int64) []byte {
	sec := us / 1e6
	if us < 0 && us%1e6 != 0 {
		sec--
	}
	dst = append(dst, '"')
	dst = appendDateTime(dst, sec)
	return append(dst, 'Z', '"')
}

// appendDateTime appends "YYYY-MM-DDTHH:MM:SS" for unix seconds (UTC), using
// the days-to-civil algorithm (no time.Time, no allocation).
func appendDateTime(dst []byte, sec int64) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPad(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendPad(dst, rem/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, rem/60%60, 2)
	dst = append(dst, ':')
	return appendPad(dst, rem%60, 2)
}

// appendPad appends v (>= 0) zero-padded to width digits.
func appendPad(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// appendUUID appends a random (version 4) UUID in its 36-character text form.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^(0xF<<12) | 4<<12 // version 4
	lo = lo&^(3<<62) | 2<<62   // RFC 4122 variant
	var b [36]byte
	put := func(at int, v uint64, n int) {
		for j := n - 1; j >= 0; j-- {
			b[at+j] = hexDigits[v&0xF]
			v >>= 4
		}
	}
	put(0, hi>>32, 8)
	b[8] = '-'
	put(9, hi>>16, 4)
	b[13] = '-'
	put(14, hi, 4)
	b[18] = '-'
	put(19, lo>>48, 4)
	b[23] = '-'
	put(24, lo, 12)
	return append(dst, b[:]...)
}

// appendDuration appends d formatted like time.Duration.String ("1.234567s",
// "4.1ms", "812µs"), quotes included.
func appendDuration(dst []byte, d time.Duration) []byte {
	dst = append(dst, '"')
	dst = append(dst, d.String()...)
	return append(dst, '"')
}
