package audit

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimeRange(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2026-01-15T09:00:00.123456Z", true},
		{"2261-12-31T23:59:59Z", true},
		{"1678-01-01T00:00:00Z", true},
		{"9999-12-31T00:00:00Z", false}, // wrapped to 1816 as Unix nanoseconds
		{"9999-12-31T00:00:00+02:00", false},
		{"0001-01-01 00:00:00", false},
		{"not-a-time", false},
		{"2026-13-45T00:00:00Z", false},
	} {
		got, ok := ParseTime(tc.in)
		if ok != tc.ok {
			t.Errorf("ParseTime(%q) ok %v, want %v", tc.in, ok, tc.ok)
		}
		if ok && time.Unix(0, got.UnixNano()).UTC().Year() != got.Year() {
			t.Errorf("ParseTime(%q) = %v does not survive Unix nanoseconds", tc.in, got)
		}
	}
}

func TestCheck(t *testing.T) {
	const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",`
	for _, tc := range []struct{ in, want string }{
		{`"auditID":"a","stage":"ResponseComplete","responseStatus":{"code":200},"stageTimestamp":"2026-01-15T09:00:00Z"}`, ""},
		{`"auditID":"a","stage":"ResponseComplete","stageTimestamp":"9999-12-31T00:00:00Z"}`, `stageTimestamp "9999-12-31T00:00:00Z" is not a time`},
		{`"auditID":"a","stage":"ResponseComplete","stageTimestamp":"not-a-time"}`, `--since and --until leave it out`},
		{`"auditID":"a","stage":"ResponseComplete","stageTimestamp":"2026-01-15T09:00:00Z","requestReceivedTimestamp":"2026-13-45T00:00:00Z"}`, `requestReceivedTimestamp "2026-13-45T00:00:00Z" is not a time`},
		{`"stage":"ResponseComplete","stageTimestamp":"2026-01-15T09:00:00Z"}`, "no auditID; event kept"},
		{`"auditID":"a","stageTimestamp":"2026-01-15T09:00:00Z"}`, "no known stage; event kept"},
		{`"auditID":"a","stage":"Done","stageTimestamp":"2026-01-15T09:00:00Z"}`, "no known stage"},
		{`"auditID":"a","stage":"ResponseComplete","responseStatus":{"code":-403},"stageTimestamp":"2026-01-15T09:00:00Z"}`, "responseStatus.code -403 is not an HTTP status"},
		{`"auditID":"a","stage":"ResponseComplete","responseStatus":{"code":1000},"stageTimestamp":"2026-01-15T09:00:00Z"}`, "code 1000"},
	} {
		evs, err := Decode([]byte(head+tc.in), nil)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got := evs[0].Check()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
