package audit

import (
	"testing"
	"time"
)

func TestLatency(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		received, stage time.Time
		want            time.Duration
	}{
		{"both", t0, t0.Add(1500 * time.Millisecond), 1500 * time.Millisecond},
		{"same instant", t0, t0, 0},
		{"no received", time.Time{}, t0, 0},
		{"no stage time", t0, time.Time{}, 0},
		{"clock went backwards", t0.Add(time.Second), t0, 0},
	}
	for _, tc := range tests {
		e := Event{Received: tc.received, StageTime: tc.stage}
		if got := e.Latency(); got != tc.want {
			t.Errorf("%s: Latency() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDenied(t *testing.T) {
	tests := []struct {
		decision string
		code     int32
		want     bool
	}{
		{"forbid", 403, true},
		{"forbid", 0, true},  // RequestReceived stage: no response yet
		{"", 403, true},      // admission or another refusal
		{"allow", 403, true}, // admission refused what the authorizer allowed (real kube-apiserver 1.37)
		{"allow", 200, false},
		{"", 200, false},
		{"", 401, false},
	}
	for _, tc := range tests {
		e := Event{Decision: tc.decision, Code: tc.code}
		if got := e.Denied(); got != tc.want {
			t.Errorf("decision %q code %d: Denied() = %v, want %v", tc.decision, tc.code, got, tc.want)
		}
	}
}

func TestLongRunning(t *testing.T) {
	tests := []struct {
		verb, subresource, uri string
		want                   bool
	}{
		{"watch", "", "/api/v1/pods?watch=true", true},
		{"proxy", "", "/api/v1/namespaces/x/services/y/proxy", true},
		{"create", "exec", "/api/v1/namespaces/x/pods/p/exec?command=sh", true},
		{"get", "attach", "", true},
		{"get", "log", "/api/v1/namespaces/x/pods/p/log?follow=true", true},
		{"create", "portforward", "", true},
		{"list", "", "/api/v1/pods?limit=500&watch=true", true},
		{"list", "", "/api/v1/pods?watch=1", true},
		{"list", "", "/api/v1/pods?watch=false", false},
		{"list", "", "/api/v1/pods?allowWatchBookmarks=true", false},
		{"list", "", "/api/v1/pods?x=watch=true", false},
		{"get", "status", "/api/v1/namespaces/x/pods/p/status", false},
		{"get", "", "/healthz", false},
	}
	for _, tc := range tests {
		e := Event{Verb: tc.verb, RequestURI: tc.uri, Object: ObjectRef{Subresource: tc.subresource}}
		if got := e.LongRunning(); got != tc.want {
			t.Errorf("%s %s %s: LongRunning() = %v, want %v", tc.verb, tc.subresource, tc.uri, got, tc.want)
		}
	}
}

func TestSubject(t *testing.T) {
	admin := UserInfo{Name: "system:admin", Groups: []string{"system:masters"}}
	bob := UserInfo{Name: "bob", Groups: []string{"system:authenticated"}}
	if got := (&Event{User: admin}).Subject(); got.Name != "system:admin" {
		t.Errorf("without impersonation: Subject() = %+v", got)
	}
	if got := (&Event{User: admin, Impersonated: bob}).Subject(); got.Name != "bob" || got.Groups[0] != "system:authenticated" {
		t.Errorf("with impersonation: Subject() = %+v", got)
	}
}

func TestStageAndLevelNames(t *testing.T) {
	for s := StageRequestReceived; s <= StagePanic; s++ {
		if ParseStage(s.String()) != s {
			t.Errorf("stage %d does not round-trip through %q", s, s)
		}
	}
	for l := LevelNone; l <= LevelRequestResponse; l++ {
		if ParseLevel(l.String()) != l {
			t.Errorf("level %d does not round-trip through %q", l, l)
		}
	}
	// Every other spelling is unknown: the names with a byte changed,
	// cut or extended, and each other's names.
	for _, name := range append(stageNames[1:], levelNames[1:]...) {
		for i := range len(name) + 1 {
			for _, v := range []string{name[:i], name[:i] + "x" + name[i:], name[:i] + "x" + name[min(i+1, len(name)):], name + "\x00"} {
				if v != name {
					eq(t, "ParseStage("+v+")", ParseStage(v), stageOf(v))
					eq(t, "ParseLevel("+v+")", ParseLevel(v), levelOf(v))
				}
			}
		}
		eq(t, "ParseStage("+name+")", ParseStage(name), stageOf(name))
		eq(t, "ParseLevel("+name+")", ParseLevel(name), levelOf(name))
	}
	if ParseStage("responsecomplete") != StageUnknown || ParseLevel("") != LevelUnknown || Stage(9).String() != "" {
		t.Error("unknown names must map to the zero value")
	}
	if !StagePanic.Final() || StageResponseStarted.Final() {
		t.Error("Final: only ResponseComplete and Panic end a request")
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2020-05-05T16:16:37.655912Z", time.Date(2020, 5, 5, 16, 16, 37, 655912000, time.UTC), true},
		{"2020-05-05T16:16:37Z", time.Date(2020, 5, 5, 16, 16, 37, 0, time.UTC), true},
		{"2020-05-05T16:16:37.123456789Z", time.Date(2020, 5, 5, 16, 16, 37, 123456789, time.UTC), true},
		{"2024-02-29T00:00:00.5Z", time.Date(2024, 2, 29, 0, 0, 0, 5e8, time.UTC), true},
		{"2017-03-21T03:57:09.106841886-04:00", time.Date(2017, 3, 21, 7, 57, 9, 106841886, time.UTC), true},
		{"2022-11-29 00:09:04.38", time.Date(2022, 11, 29, 0, 9, 4, 38e7, time.UTC), true},
		{"2024-11-13 18:34:10.595141000", time.Date(2024, 11, 13, 18, 34, 10, 595141000, time.UTC), true},
		{"2022-11-29 00:09:04", time.Date(2022, 11, 29, 0, 9, 4, 0, time.UTC), true},
		{"2022-11-29 00:09:04+02:00", time.Date(2022, 11, 28, 22, 9, 4, 0, time.UTC), true},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"2020-13-01T00:00:00Z", time.Time{}, false},
		{"2020-05-05T24:00:00Z", time.Time{}, false},
		{"2020-05-05T16:16:37.Z", time.Time{}, false},
		{"2020-05-05T16:16:37.1234567890Z", time.Date(2020, 5, 5, 16, 16, 37, 123456789, time.UTC), true}, // time.Parse truncates
		{"2020-05-05", time.Time{}, false},
		{"", time.Time{}, false},
		{"null", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseTime holds the fast UTC path to time.Parse: whatever it accepts,
// RFC 3339 must accept with the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2020-05-05T16:16:37.655912Z", "2020-05-05T16:16:37Z", "2024-02-29T23:59:59.999999999Z",
		"0000-01-01T00:00:00Z", "2022-11-29 00:09:04.38", "2017-03-21T03:57:09-04:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseUTC(s)
		if !ok {
			ParseTime(s) // must not panic
			return
		}
		ref, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || fast != ref.UTC() {
			t.Fatalf("parseUTC(%q) = %v, time.Parse = %v, %v", s, fast, ref, err)
		}
	})
}

// stageOf and levelOf are the definitions ParseStage and ParseLevel
// implement: the index of the name in the String table.
func stageOf(s string) Stage {
	for i, n := range stageNames {
		if i > 0 && n == s {
			return Stage(i)
		}
	}
	return StageUnknown
}

func levelOf(s string) Level {
	for i, n := range levelNames {
		if i > 0 && n == s {
			return Level(i)
		}
	}
	return LevelUnknown
}
