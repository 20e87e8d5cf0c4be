package query

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// TestPushdown pins which filters are answered without running jq on every
// candidate.
func TestPushdown(t *testing.T) {
	tests := []struct {
		filter string
		plan   string
	}{
		{`.verb == "get"`, `.verb == "get"`},
		{`"get" == .verb`, `.verb == "get"`},
		{`.verb != "get"`, `not(.verb == "get")`},
		{`select(.verb == "delete" and .user.username == "alice")`, `(.verb == "delete" and .user.username == "alice")`},
		{`.verb == "delete" and (.objectRef.namespace | startswith("prod-"))`, `(.verb == "delete" and .objectRef.namespace | startswith("prod-"))`},
		{`.responseStatus.code == 403 and .user.username == "bob"`, `(.responseStatus.code == 403 and .user.username == "bob")`},
		{`.responseStatus.code >= 500 or denied`, `(.responseStatus.code >= 500 or denied)`},
		{`(.objectRef.namespace | test("^kube-")) | not`, `not(.objectRef.namespace | test("^kube-"))`},
		{`.verb | IN("get", "list", "watch")`, `.verb | IN("get", "list", "watch")`},
		{`any(.user.groups[]?; . == "system:masters")`, `group == "system:masters"`},
		{`.impersonatedUser.username == "bob"`, `.impersonatedUser.username == "bob"`},
		{`.annotations["authorization.k8s.io/decision"] == "forbid"`, `.annotations["authorization.k8s.io/decision"] == "forbid"`},
		{`.sourceIPs[0] == "10.0.0.7"`, `.sourceIPs[0] == "10.0.0.7"`},
		{`.stage == "ResponseComplete" and .level == "RequestResponse"`, `(.stage == "ResponseComplete" and .level == "RequestResponse")`},
		{`latency > 1 and longrunning | not`, ``}, // precedence: (latency > 1 and longrunning) | not
		{`.objectRef.name == "web-1" and .auditID == "x"`, `(.objectRef.name == "web-1" and .auditID == "x")`},
		{`.userAgent | endswith("/kubectl")`, `.userAgent | endswith("/kubectl")`},
		{`.requestObject.spec.hostNetwork == true`, `jq(.requestObject.spec.hostNetwork == true | bytes ⊇ "hostNetwork":true, "spec", "requestObject")`},
		{`.verb == "create" and .requestObject.spec.containers[]?.securityContext.privileged == true`,
			`(.verb == "create" and jq(.requestObject.spec.containers[]?.securityContext.privileged == true | bytes ⊇ "privileged":true, "securityContext", "containers", "spec", "requestObject"))`},
		// The filters scripts/bench.sh times against jq.
		{`.user.username == "bob"`, `.user.username == "bob"`},
		{`.responseStatus.code == 403 and .objectRef.namespace == "kube-system"`, `(.responseStatus.code == 403 and .objectRef.namespace == "kube-system")`},
		{`any(.requestObject.spec.containers[]?; .securityContext.privileged == true)`,
			`jq(any(.requestObject.spec.containers[]?; .securityContext.privileged == true) | bytes ⊇ "privileged":true, "securityContext", "containers", "spec", "requestObject")`},
		{`.stage == "Unknown"`, `jq(.stage == "Unknown" | bytes ⊇ "stage":"Unknown")`},
		{`def f: .verb; f == "get"`, `jq(def f: .verb; f == "get")`},
	}
	for _, tt := range tests {
		f, err := Compile(tt.filter)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.filter, err)
			continue
		}
		if tt.plan == "" {
			if strings.Contains(f.Plan(), "jq(") {
				t.Errorf("%s: plan %s runs jq", tt.filter, f.Plan())
			}
			continue
		}
		if f.Plan() != tt.plan {
			t.Errorf("%s\n plan %s\n want %s", tt.filter, f.Plan(), tt.plan)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := map[string]string{
		`.a.b == "x"`:                          `"b":"x" "a"`,
		`.a[]?.b == true`:                      `"b":true "a"`,
		`.a["k/x"] == false`:                   `"k/x":false "a"`,
		`.a[0] == "x"`:                         `"x" "a"`, // an array element: no key before it
		`.a.b[]? == "x"`:                       `"x" "b" "a"`,
		`.a.b? == "x"`:                         `"b":"x" "a"`,
		`.a == 1`:                              `"a":1`,
		`.a == 4.03e2`:                         `"a":403`,
		`.a == -403.0`:                         `"a":-403`,
		`.a == 1.5`:                            `"a"`, // not an integer
		`.a == 1e300`:                          `"a"`, // past 2^53
		`.a.b == 1 or .c.b == 2`:               `"b"`,
		`.a > 1`:                               `"a"`,
		`.a < 1`:                               ``,
		`.a != "x"`:                            ``,
		`.a == null`:                           ``,
		`.a == "x" and .b == "y"`:              `"a":"x" "b":"y"`,
		`.a == "x" or .a == "y"`:               `"a"`,
		`(.a | startswith("pre"))`:             `"pre "a"`,
		`.a | endswith("post")`:                `post" "a"`,
		`.a | contains("mid")`:                 `mid "a"`,
		`.a | test("x")`:                       `"a"`,
		`select(.a == "x")`:                    `"a":"x"`,
		`.a == "say \"hi\""`:                   `"a"`, // quotes are escaped in JSON: not a literal
		`.a == "ü"`:                            `"a"`, // not ASCII
		`(.a == "x") | not`:                    ``,
		`.a.b == .c`:                           ``,
		`.requestObject.metadata.name == "x1"`: `"name":"x1" "metadata" "requestObject"`,
		`any(.a[]?; .b == true)`:               `"b":true "a"`,
		`any(.spec.containers[]?; .securityContext.privileged == true)`: `"privileged":true "securityContext" "containers" "spec"`,
		`any(.a[] | .x; .b == true)`:                                    ``, // not a path of the input: C's value may be made up
	}
	for src, want := range tests {
		q, err := gojq.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range required(q) {
			got = append(got, l.String())
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("required(%s) = %s, want %s", src, g, want)
		}
	}
}

func TestMayContain(t *testing.T) {
	priv, _ := newLit(`"`, "privileged", `"`)
	slash, _ := newLit(`"`, "a/b", `"`)
	tests := []struct {
		raw  string
		l    lit
		want bool
	}{
		{`{"privileged":true}`, priv, true},
		{`{"x":true}`, priv, false},
		{`{"\u0070rivileged":true}`, priv, true}, // p escaped
		{`{"x":"\u003c\u0026"}`, priv, false},    // escapes of other characters
		{`{"x":"\u0050"}`, priv, false},          // P is not p
		{`{"k":"a\/b"}`, slash, true},            // \/ is /
		{`{"k":"a\"b","privileged":1}`, priv, true},
		{`{"k":"\uZZZZ"}`, priv, true}, // unreadable escape: may be anything
		{`{"k":"\u00`, priv, true},     // truncated escape
	}
	for _, tt := range tests {
		if got := mayContainAll([]byte(tt.raw), []lit{tt.l}); got != tt.want {
			t.Errorf("mayContain(%s, %s) = %v, want %v", tt.raw, tt.l.b, got, tt.want)
		}
	}
}

// TestPrefilterSkips checks the pre-filter does its job on the fixtures.
func TestPrefilterSkips(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	f, err := Compile(`.requestObject.spec.containers[]?.securityContext.privileged == true`)
	if err != nil {
		t.Fatal(err)
	}
	s, stats, err := f.EvalStats(context.Background(), st, st.All())
	if err != nil {
		t.Fatal(err)
	}
	if s.IsEmpty() || stats.Skipped == 0 || stats.Decoded >= st.Len()/2 {
		t.Errorf("kept %d, decoded %d, skipped %d of %d", s.GetCardinality(), stats.Decoded, stats.Skipped, st.Len())
	}
}

func TestJQErrorsAreNotKept(t *testing.T) {
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	// Events without a namespace make startswith raise an error: they are
	// not kept, and neither are they by its negation.
	pos := kept(t, st, `.objectRef.namespace | startswith("d")`)
	neg := kept(t, st, `(.objectRef.namespace | startswith("d")) | not`)
	withNS := kept(t, st, `.objectRef.namespace != null`)
	if len(pos)+len(neg) != len(withNS) || len(pos) == 0 || len(neg) == 0 {
		t.Errorf("kept %d + %d, want %d events with a namespace in all", len(pos), len(neg), len(withNS))
	}
	f, _ := Compile(`.objectRef.namespace | ascii_downcase == "default"`)
	_, stats, err := f.EvalStats(context.Background(), st, st.All())
	if err != nil || stats.Errors == 0 || stats.FirstError == nil {
		t.Errorf("stats %+v, %v: want errors counted", stats, err)
	}
}

func TestHelpers(t *testing.T) {
	st := loadStore(t, "sysdig-aks-eventhubs-records.unwrapped.jsonl", "falco-trace-files-k8s_audit.jsonl")
	// The helpers through jq (a residue) agree with the store's columns.
	for _, pair := range [][2]string{
		{`denied`, `[denied][0]`},
		{`longrunning`, `[longrunning][0]`},
		{`latency > 0.01`, `[latency][0] > 0.01`},
	} {
		a, b := kept(t, st, pair[0]), kept(t, st, pair[1])
		if len(a) != len(b) {
			t.Errorf("%s kept %d, %s kept %d", pair[0], len(a), pair[1], len(b))
		}
	}
	if got := kept(t, st, `.user | denied`); len(got) != 0 {
		t.Errorf("denied of a non-event kept %d", len(got))
	}
	if got := kept(t, st, `$ENV | length == 0`); len(got) != st.Len() {
		t.Errorf("$ENV is not empty")
	}
}

func TestCancel(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	f, err := Compile(`[range(100000)] | length > 0`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Eval(ctx, st, st.All()); err != context.Canceled {
		t.Errorf("Eval after cancel: %v", err)
	}
}

// TestConcurrentEval: one compiled filter, many evaluations at once (the
// TUI re-runs filters while the previous run may still be going).
func TestConcurrentEval(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	f, err := Compile(`.objectRef.apiGroup == "apps" or (.verb == "create" and .requestObject.kind == "Pod") or latency > 0.1`)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.Eval(context.Background(), st, st.All())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := f.Eval(context.Background(), st, st.All())
			if err == nil && !got.Equals(want) {
				err = fmt.Errorf("kept %v, want %v", got.ToArray(), want.ToArray())
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
