package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

const fixtures = "../testdata/public/"

// filterFixtures are the fixtures of JSON lines whose events the filter
// tests run over; they have no duplicate events.
var filterFixtures = []string{
	"audit2rbac-demo-v1.jsonl",
	"falco-trace-files-k8s_audit.jsonl",
	"panther-eks-audit.jsonl",
	"sysdig-aks-eventhubs-records.unwrapped.jsonl",
	"k8sdocs-v1alpha1.jsonl",
	"khi-oss-kind-requestresponse.jsonl",
}

// loadStore appends the events of JSON lines files to a new store, each
// file being its own raw segment. Lines that are not events are skipped.
func loadStore(t testing.TB, files ...string) *store.Store {
	t.Helper()
	st := store.New()
	for _, name := range files {
		data, err := os.ReadFile(fixtures + name)
		if err != nil {
			t.Fatal(err)
		}
		appendLines(t, st, data)
	}
	return st
}

func appendLines(t testing.TB, st *store.Store, data []byte) {
	t.Helper()
	var evs []audit.Event
	var offs []int64
	off := 0
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		doc := bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(doc)) > 0 {
			n := len(evs)
			var err error
			if evs, err = audit.Decode(doc, evs); err != nil {
				var ue *audit.UnrecognisedError
				if !errors.As(err, &ue) {
					t.Logf("skipping line at %d: %v", off, err)
				}
			}
			for _, e := range evs[n:] {
				offs = append(offs, int64(off+cap(doc)-cap(e.Raw)))
			}
		}
		off += len(line)
	}
	st.Append(evs, bytes.NewReader(data), offs)
}

// kept runs a filter over all events of st and returns the kept IDs.
func kept(t *testing.T, st *store.Store, text string) []uint32 {
	t.Helper()
	f, err := Compile(text)
	if err != nil {
		t.Fatalf("Compile(%q): %v", text, err)
	}
	s, err := f.Eval(context.Background(), st, st.All())
	if err != nil {
		t.Fatalf("Eval(%q): %v", text, err)
	}
	return s.ToArray()
}

func TestEvalFixtures(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	count := func(fn func(e *store.Entry) bool) int {
		n := 0
		st.Each(st.All(), func(e *store.Entry) bool {
			if fn(e) {
				n++
			}
			return true
		})
		return n
	}
	tests := []struct {
		filter string
		want   func(e *store.Entry) bool
	}{
		{"user:bob", func(e *store.Entry) bool { return e.User.Name == "bob" || e.Impersonated.Name == "bob" }},
		{"user:system:admin -user:bob", func(e *store.Entry) bool {
			return (e.User.Name == "system:admin" || e.Impersonated.Name == "system:admin") && e.User.Name != "bob" && e.Impersonated.Name != "bob"
		}},
		{"as:bob", func(e *store.Entry) bool { return e.Impersonated.Name == "bob" }},
		{`-as:""`, func(e *store.Entry) bool { return e.Impersonated.Name != "" }},
		{"subject:bob", func(e *store.Entry) bool { return e.Subject().Name == "bob" }},
		{"subject:system:* denied", func(e *store.Entry) bool { return strings.HasPrefix(e.Subject().Name, "system:") && e.Denied }},
		{"user:system:admin -subject:system:admin", func(e *store.Entry) bool { // what system:admin did as someone else
			return e.User.Name == "system:admin" && e.Impersonated.Name != ""
		}},
		{"code:403", func(e *store.Entry) bool { return e.Code == 403 }},
		{"code:4xx,5xx", func(e *store.Entry) bool { return e.Code >= 400 && e.Code < 600 }},
		{"code:200-299 verb:get,list", func(e *store.Entry) bool {
			return e.Code >= 200 && e.Code < 300 && (e.Verb == "get" || e.Verb == "list")
		}},
		{"error", func(e *store.Entry) bool { return e.Code >= 400 }},
		{"denied", func(e *store.Entry) bool { return e.Denied }},
		{"-denied longrunning", func(e *store.Entry) bool { return !e.Denied && e.LongRunning }},
		{"ns:kube-*", func(e *store.Entry) bool { return strings.HasPrefix(e.Object.Namespace, "kube-") }},
		{`ns:""`, func(e *store.Entry) bool { return e.Object.Namespace == "" }},
		{"name:*-*", func(e *store.Entry) bool { return strings.Contains(e.Object.Name, "-") }},
		{"latency>1s", func(e *store.Entry) bool { return e.Latency > 1e9 }},
		{"latency<=50ms -latency<1ms", func(e *store.Entry) bool { return e.Latency <= 50e6 && e.Latency >= 1e6 }},
		{"stage:ResponseStarted", func(e *store.Entry) bool { return e.Stage == audit.StageResponseStarted }},
		{"level:Request*", func(e *store.Entry) bool { return strings.HasPrefix(e.Level.String(), "Request") }},
		{"ua:kubectl*", func(e *store.Entry) bool { return strings.HasPrefix(e.UserAgent, "kubectl") }},
		{"ip:10.0.0.0/8,172.16.0.0/12", func(e *store.Entry) bool {
			return strings.HasPrefix(e.SourceIP, "10.") || strings.HasPrefix(e.SourceIP, "172.")
		}},
		{"group:system:masters resource:pods", func(e *store.Entry) bool {
			return contains(e.User.Groups, "system:masters") && e.Object.Resource == "pods"
		}},
		{`.verb == "create" and (.objectRef.namespace | startswith("kube"))`, func(e *store.Entry) bool {
			return e.Verb == "create" && strings.HasPrefix(e.Object.Namespace, "kube")
		}},
		{`.responseStatus.code >= 400 and denied`, func(e *store.Entry) bool { return e.Code >= 400 && e.Denied }},
		{`.requestObject.spec.containers[]?.securityContext.privileged == true`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got := kept(t, st, tt.filter)
			if tt.want == nil {
				if len(got) == 0 {
					t.Errorf("kept nothing")
				}
				return
			}
			want := count(tt.want)
			if len(got) != want {
				t.Errorf("kept %d events, want %d", len(got), want)
			}
			if want == 0 {
				t.Logf("no events match: the case tests little")
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		filter string
		col    int // 1-based column of the caret; 0: no position
		msg    string
	}{
		{"usr:alice", 1, `unknown key "usr"`},
		{"verb:get usr:alice", 10, `unknown key "usr" (valid keys: user, group, verb`},
		{"verb:get bog\"us", 13, `a quote may only start a word`},
		{"since:yesterday", 7, `"yesterday" is neither an RFC 3339 time`},
		{"until:1h,2h", 9, "until: takes one time"},
		{"code:4x5", 6, `bad status code "4x5"`},
		{"code:403,abc", 10, `bad status code "abc"`},
		{"code:499-400", 6, `bad status code`},
		{"latency>fast", 9, `bad duration "fast"`},
		{`user:"alice`, 6, "unterminated quoted value"},
		{`user:"alice"x`, 13, "expected a comma or a space"},
		{"verb:", 6, "missing value after verb:"},
		{"verb:get,", 10, "missing value"},
		{"stage:Done", 7, `unknown stage "Done" (want one of RequestReceived`},
		{"ip:10.0.0.0/33", 4, "bad address prefix"},
		{"-", 2, "expected a term after -"},
		{".verb === \"x\"", 9, `jq: unexpected token "="`},
		{".verb == ", 10, "jq: unexpected EOF"},
		{".a and and .b", 8, `unexpected token "and"`},
		{".verb | foo(1)", 9, "jq: function not defined: foo/1"},
		{".x == $y", 7, "jq: variable not defined: $y"},
		{"select(.verb == \"get\"", 22, "jq: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			_, err := Compile(tt.filter)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SyntaxError", err, err)
			}
			if !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("message %q, want it to contain %q", se.Msg, tt.msg)
			}
			if se.Column() != tt.col {
				t.Errorf("column %d, want %d:\n%s", se.Column(), tt.col, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if tt.col > 0 && (len(lines) != 3 || lines[2] != "  "+strings.Repeat(" ", tt.col-1)+"^") {
				t.Errorf("caret misplaced:\n%s", err)
			}
		})
	}
}

func TestCaretMultiLine(t *testing.T) {
	_, err := Compile(".verb == \"get\" and\n  (.objectRef | foo)")
	want := "jq: function not defined: foo/0 (line 2)\n    (.objectRef | foo)\n                  ^"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// TestCaretWide: the caret sits under the offending term when the text
// before it holds two-cell runes.
func TestCaretWide(t *testing.T) {
	_, err := Compile("user:山田 usr:x")
	want := "\n  user:山田 usr:x\n            ^"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got\n%v\nwant suffix\n%s", err, want)
	}
}

func TestEmptyFilterKeepsAll(t *testing.T) {
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	for _, text := range []string{"", "  "} {
		if got := kept(t, st, text); len(got) != st.Len() {
			t.Errorf("%q kept %d of %d", text, len(got), st.Len())
		}
	}
}

func ExampleSyntaxError() {
	_, err := Compile("verb:get usr:alice")
	fmt.Println(strings.SplitN(err.Error(), " (", 2)[0])
	fmt.Println(strings.Join(strings.Split(err.Error(), "\n")[1:], "\n"))
	// Output:
	// unknown key "usr"
	//   verb:get usr:alice
	//            ^
}
