package audit

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Check says what is wrong with an event kaudit keeps anyway, "" when
// nothing is: a timestamp that is not a time (or out of range, such as
// 9999-12-31), no auditID, no stage or an unknown one, a status code that is
// not an HTTP status (-403). Such an event is still counted and shown —
// dropping it could lose a real request — but --since/--until cannot place
// it without a time, and identity (auditID, stage, stageTimestamp) is weak
// without its parts, so the reader reports it with its file and line.
func (e *Event) Check() string {
	var why []string
	if e.BadTime {
		why = append(why, badTimes(e.Raw)...)
	}
	if e.AuditID == "" {
		why = append(why, "no auditID")
	}
	if e.Stage == StageUnknown {
		why = append(why, "no known stage")
	}
	if c := e.Code; c != 0 && (c < 100 || c > 599) {
		why = append(why, "responseStatus.code "+strconv.Itoa(int(c))+" is not an HTTP status")
	}
	if len(why) == 0 {
		return ""
	}
	if e.BadTime && e.StageTime.IsZero() {
		return strings.Join(why, "; ") + "; event kept without a time (--since and --until leave it out)"
	}
	return strings.Join(why, "; ") + "; event kept"
}

// badTimes names the timestamps of raw that ParseTime refuses, with their
// values (quoted, at most 40 bytes). It decodes raw again: it runs only for
// the rare event that has one.
func badTimes(raw []byte) []string {
	var ts struct {
		RequestReceivedTimestamp, StageTimestamp, Timestamp *string
	}
	_ = json.Unmarshal(raw, &ts)
	var out []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"requestReceivedTimestamp", ts.RequestReceivedTimestamp}, {"stageTimestamp", ts.StageTimestamp}, {"timestamp", ts.Timestamp}} {
		if f.v == nil || *f.v == "" {
			continue
		}
		if _, ok := ParseTime(*f.v); !ok {
			v := *f.v
			if len(v) > 40 {
				v = v[:40] + "…"
			}
			out = append(out, f.name+" "+strconv.Quote(v)+" is not a time kaudit can place (RFC 3339, years 1678-2261)")
		}
	}
	if len(out) == 0 {
		out = append(out, "a timestamp is not a time")
	}
	return out
}
