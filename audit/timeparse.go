package audit

import (
	"encoding/binary"
	"sync/atomic"
	"time"
	"unsafe"
)

// ParseTime parses the timestamps found in audit logs: RFC 3339 with any
// fraction (what the API server writes, in UTC), RFC 3339 with a zone offset,
// and the "2006-01-02 15:04:05.999" form some log pipelines rewrite them to
// (taken as UTC). It reports false for anything else.
//
// Times kaudit cannot hold as Unix nanoseconds (before 1678 or after 2261,
// e.g. 9999-12-31, which would wrap around to 1816) are refused too.
func ParseTime(s string) (time.Time, bool) {
	t, ok := parseUTC(s)
	if ok {
		return t, true // its year is checked
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if ok {
			break
		}
		var err error
		t, err = time.Parse(layout, s)
		ok = err == nil
	}
	if !ok || !inRange(t) {
		return time.Time{}, false
	}
	return t, true
}

// inRange reports whether t's Unix nanoseconds fit an int64, with a year of
// margin at either end.
func inRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1678 && y <= 2261
}

// parseUTC is the fast path for "2006-01-02T15:04:05[.fraction]Z", the form
// kube-apiserver writes for every timestamp, with ParseTime's year range.
func parseUTC(s string) (time.Time, bool) {
	if len(s) == len("2006-01-02T15:04:05.000000Z") {
		if t, ok := parseMicroUTC(s); ok {
			return t, true
		}
	}
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	days := daysSinceEpoch(year, month, day)
	return time.Unix(days*86400+int64(hour*3600+minute*60+sec), int64(nsec)).UTC(), true
}

// parseMicroUTC is parseUTC for exactly "2006-01-02T15:04:05.000000Z"
// (microseconds, what the API server writes), with no loops and one test
// for all the digits; false for anything else, which parseUTC then tries.
// The date part comes from dayOf, which remembers the last dates seen.
func parseMicroUTC(s string) (time.Time, bool) {
	if len(s) != 27 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	var bad uint
	// dig is the value of the digit c; bad collects a bit >= 0x80 for
	// any byte that is not one.
	dig := func(c byte) int {
		v := uint(c - '0')
		bad |= (v + 0x76) &^ 0x7f
		return int(v)
	}
	hour := dig(s[11])*10 + dig(s[12])
	minute := dig(s[14])*10 + dig(s[15])
	sec := dig(s[17])*10 + dig(s[18])
	micro := ((dig(s[20])*10+dig(s[21]))*10+dig(s[22]))*1000 + (dig(s[23])*10+dig(s[24]))*10 + dig(s[25])
	if bad != 0 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	days, ok := dayOf(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(days*86400+int64(hour*3600+minute*60+sec), int64(micro)*1000).UTC(), true
}

// dayMemo is a date dayOf worked out: its ten bytes as two words, and its
// days since the epoch.
type dayMemo struct {
	lo    uint64
	hi    uint16
	days  int64
	valid bool
}

// lastDays remember recent dates, one per last digit of the day (modulo
// 8), so that a log crossing midnight, or a request that did, does not
// make them alternate. Every decoding goroutine shares them: a date is
// replaced rarely, and the pointers make each memo read whole.
var lastDays [8]atomic.Pointer[dayMemo]

// dayOf is the day, in days since the epoch, of the date "2006-01-02" at
// the start of s (at least ten bytes); false unless it is a valid date in
// ParseTime's year range. A date seen last time is not checked again:
// the same bytes make the same day.
func dayOf(s string) (int64, bool) {
	b := unsafe.Slice(unsafe.StringData(s), 10)
	lo, hi := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint16(b[8:])
	slot := &lastDays[b[9]&7]
	if m := slot.Load(); m != nil && m.lo == lo && m.hi == hi {
		return m.days, m.valid
	}
	days, ok := parseDay(s)
	slot.Store(&dayMemo{lo: lo, hi: hi, days: days, valid: ok})
	return days, ok
}

// parseDay is dayOf without the memo.
func parseDay(s string) (int64, bool) {
	if s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	var bad uint
	dig := func(c byte) int {
		v := uint(c - '0')
		bad |= (v + 0x76) &^ 0x7f
		return int(v)
	}
	year := dig(s[0])*1000 + dig(s[1])*100 + dig(s[2])*10 + dig(s[3])
	month := dig(s[5])*10 + dig(s[6])
	day := dig(s[8])*10 + dig(s[9])
	if bad != 0 || year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return 0, false
	}
	return daysSinceEpoch(year, month, day), true
}

// daysSinceEpoch is the number of days from 1970-01-01 to the valid date
// y-m-d (proleptic Gregorian), as time.Date counts them but without its
// normalisation and zone lookup (Howard Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	// Unsigned (y >= 1677 here): the divisions by constants are then
	// plain multiplications, with no sign fix-ups.
	yy, mp := uint(y), uint(m)+9 // March is month 0
	if m <= 2 {
		yy--
	} else {
		mp = uint(m) - 3
	}
	era := yy / 400
	yoe := yy - era*400
	doy := (153*mp+2)/5 + uint(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe) - 719468
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
