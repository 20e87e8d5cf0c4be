package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/query"
)

// noDuplicates are fixtures whose every line is a distinct audit event.
var noDuplicates = []string{"audit2rbac-demo-v1.jsonl", "sysdig-aks-eventhubs-records.unwrapped.jsonl"}

// jsonValues parses JSON lines (numbers kept exact) for comparison.
func jsonValues(t *testing.T, out string) []any {
	t.Helper()
	var vals []any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		v, err := query.DecodeJSON(sc.Bytes())
		if err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		vals = append(vals, v)
	}
	return vals
}

// selectLines is `jq -c 'select(F)' FILE` with the gojq library and
// kaudit's helper functions: the values of the lines F keeps, in order.
func selectLines(t *testing.T, file, filter string) []any {
	t.Helper()
	code, err := query.CompileJQ("select(" + filter + ")")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var vals []any
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		v, err := query.DecodeJSON(line)
		if err != nil {
			t.Fatal(err)
		}
		iter := code.Run(v)
		for {
			out, ok := iter.Next()
			if !ok {
				break
			}
			if _, isErr := out.(error); isErr {
				break // jq reports the error and goes on with the next line
			}
			vals = append(vals, out)
		}
	}
	return vals
}

// TestFilterIsSelect: for boolean jq filters F over a file without
// duplicate events, replay -f F -o jsonl prints the events jq -c
// 'select(F)' prints, in the same order.
func TestFilterIsSelect(t *testing.T) {
	filters := []string{
		`true`, `false`,
		`.verb == "get"`,
		`.verb != "list" and .responseStatus.code < 300`,
		`.responseStatus.code >= 400`,
		`.user.username | startswith("system:")`,
		`(.objectRef.namespace | startswith("kube")) | not`,
		`.objectRef.namespace == null`,
		`.impersonatedUser.username == "bob" or .impersonatedUser.username == "alice"`,
		`any(.user.groups[]?; . == "system:masters") and .verb == "list"`,
		`.stage == "ResponseComplete" and .level == "Request"`,
		`denied`, `longrunning | not`, `latency > 0.01`, `latency <= 0.001 or denied`,
		`.objectRef.apiGroup == "apps"`,
		`.userAgent | test("kubectl|hyperkube"; "i")`,
		`.sourceIPs[0] == "172.31.16.64"`,
		`.annotations["authorization.k8s.io/decision"] == "allow"`,
		`.responseStatus.message | test("forbidden")`,
		`(.objectRef.resource | length) > 5 and .verb == "get"`,
		`.requestObject.kind == "ConfigMap" or .responseStatus.code == 409`,
		`.verb | IN("watch", "create")`,
	}
	for _, name := range noDuplicates {
		file := fixtures + name
		data, _ := os.ReadFile(file)
		if _, all, _ := kaudit(t, "", "replay", "-o", "jsonl", file); all != string(data) {
			t.Fatalf("%s: every line should be a distinct event", name)
		}
		for _, f := range filters {
			code, out, stderr := kaudit(t, "", "replay", "-f", f, "-o", "jsonl", file)
			if code != exitOK {
				t.Fatalf("%s: -f %s: exit %d: %s", name, f, code, stderr)
			}
			got, want := jsonValues(t, out), selectLines(t, file, f)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: -f %s: %d events, jq select keeps %d", name, f, len(got), len(want))
			}
		}
	}
}

// TestQuickTermsAndJQAgree: a quick filter and its jq spelling print the
// same, in every view.
func TestQuickTermsAndJQAgree(t *testing.T) {
	file := fixtures + "audit2rbac-demo-v1.jsonl"
	pairs := [][2]string{
		{"user:bob code:403", `(.user.username == "bob" or .impersonatedUser.username == "bob") and .responseStatus.code == 403`},
		{"verb:get,list -ns:default", `(.verb == "get" or .verb == "list") and .objectRef.namespace != "default"`},
		{"denied", "denied"},
		{"error", ".responseStatus.code >= 400"},
	}
	for _, p := range pairs {
		for _, view := range []string{"events", "users", "denials"} {
			_, quick, _ := kaudit(t, "", "replay", "--view", view, "-o", "json", "-f", p[0], file)
			_, jq, _ := kaudit(t, "", "replay", "--view", view, "-o", "json", "-f", p[1], file)
			if quick != jq || len(quick) < 5 {
				t.Errorf("--view %s: %s and %s differ:\n%s\n%s", view, p[0], p[1], quick, jq)
			}
		}
	}
}

func TestViewsHonourFilter(t *testing.T) {
	file := fixtures + "audit2rbac-demo-v1.jsonl"
	_, out, _ := kaudit(t, "", "replay", "--view", "users", "-o", "jsonl", "-f", "user:alice", file)
	if !strings.Contains(out, `"user":"system:admin (as alice)"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("users of user:alice:\n%s", out)
	}
	_, out, _ = kaudit(t, "", "replay", "--view", "codes", "-o", "jsonl", "-f", "code:4xx", file)
	if !strings.Contains(out, `"code":"403","requests":11`) || strings.Count(out, "\n") != 1 {
		t.Errorf("codes of code:4xx:\n%s", out)
	}
	_, out, _ = kaudit(t, "", "replay", "--view", "events", "-o", "table", "--top", "2", "-f", "-denied", file)
	if strings.Count(out, "\n") != 3 || strings.Contains(out, " 403 ") {
		t.Errorf("events table of -denied, top 2:\n%s", out)
	}
}

func TestBadFilter(t *testing.T) {
	file := fixtures + "audit2rbac-demo-v1.jsonl"
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-f", "verb:get usr:alice"}, []string{"--filter: unknown key \"usr\" (valid keys: user, group, verb,", "\n  verb:get usr:alice\n           ^\n"}},
		{[]string{"-f", `.verb == "get" and and`}, []string{"--filter: jq: unexpected token \"and\"", "\n                     ^\n"}},
		{[]string{"--jq", ".a |"}, []string{"--jq: jq: unexpected EOF"}},
		{[]string{"--since", "yesterday"}, []string{"--since: \"yesterday\" is neither an RFC 3339 time"}},
		{[]string{"--since", "1h", "--until", "2h"}, []string{"is not before --until"}},
		{[]string{"--jq", ".verb", "--view", "users"}, []string{"--jq prints each event's outputs"}},
		{[]string{"--jq", ".verb", "-o", "table"}, []string{"--jq prints each event's outputs"}},
	}
	for _, tt := range tests {
		code, out, stderr := kaudit(t, "", append(append([]string{"replay"}, tt.args...), file)...)
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, output %q; want %d and nothing", tt.args, code, out, exitUsage)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, stderr)
			}
		}
	}
}

func TestSinceUntil(t *testing.T) {
	// The AKS fixture's events run from 16:16:37.66 to 16:16:38.38 on
	// 2020-05-05 (UTC stageTimestamps).
	file := fixtures + "sysdig-aks-eventhubs-records.unwrapped.jsonl"
	count := func(args ...string) int {
		t.Helper()
		code, out, stderr := kaudit(t, "", append(append([]string{"replay", "-o", "jsonl"}, args...), file)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return strings.Count(out, "\n")
	}
	all := count()
	early := count("--until", "2020-05-05T16:16:38Z")
	late := count("--since", "2020-05-05T16:16:38Z")
	if early == 0 || late == 0 || early+late != all {
		t.Errorf("until %d + since %d != all %d", early, late, all)
	}
	if n := count("--since", "2020-05-05T16:16:37.7Z", "--until", "2020-05-05T16:16:38Z", "-f", "verb:get"); n == 0 || n >= early {
		t.Errorf("window and filter kept %d", n)
	}
	defer func(f func() time.Time) { timeNow = f }(timeNow)
	timeNow = func() time.Time { return time.Date(2020, 5, 5, 18, 16, 38, 0, time.UTC) }
	if n := count("--since", "2h"); n != late {
		t.Errorf("--since 2h kept %d, want %d", n, late)
	}
	if n := count("--since", "1d", "--until", "2h"); n != early {
		t.Errorf("--since 1d --until 2h kept %d, want %d", n, early)
	}
}

func TestJQOutput(t *testing.T) {
	file := fixtures + "audit2rbac-demo-v1.jsonl"
	prog := `{user: .user.username, as: .impersonatedUser.username, verb, denied: denied}`
	code, out, stderr := kaudit(t, "", "replay", "-f", "code:403", "--jq", prog, file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := selectLines(t, file, `.responseStatus.code == 403`)
	c, err := query.CompileJQ(prog)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		want[i], _ = c.Run(v).Next()
	}
	// Outputs are compact, one per line, keys sorted as gojq -c writes them.
	first, _, _ := strings.Cut(out, "\n")
	if first != `{"as":"bob","denied":true,"user":"system:admin","verb":"list"}` {
		t.Errorf("first output %s", first)
	}
	if got := jsonValues(t, out); !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Errorf("--jq printed\n%s\nwant %v", out, want)
	}

	// Several outputs per event, and an error on some events.
	code, out, stderr = kaudit(t, "", "replay", "--top", "2", "-f", "resource:pods,nodes -ns:default", "--jq", `.verb, (.objectRef.namespace | ascii_upcase)`, file)
	if code != exitError || !strings.Contains(stderr, "--jq: event 25de0e17-3586-40d9-bbba-e7c3334b9cdf (ResponseComplete): ascii_upcase cannot be applied to: null") ||
		!strings.Contains(stderr, "--jq raised an error on 1 events") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if out != "\"list\"\n\"NS1\"\n\"list\"\n" {
		t.Errorf("outputs:\n%s", out)
	}
}

// normalise re-encodes values so that gojq's numbers and json.Number
// compare equal.
func normalise(vs []any) string {
	b, _ := json.Marshal(vs)
	return string(b)
}

func TestFilterErrorsNoted(t *testing.T) {
	file := fixtures + "audit2rbac-demo-v1.jsonl"
	code, out, stderr := kaudit(t, "", "replay", "-o", "jsonl", "-f", `.user | ascii_downcase == "x"`, file)
	if code != exitOK || out != "" || !strings.Contains(stderr, "--filter kept no events; it raised an error on 37 of them") {
		t.Errorf("exit %d, output %q, stderr:\n%s", code, out, stderr)
	}
}

// TestFilterOverSpool: events of a gzipped file are read back from the
// spool, also by the parallel jq workers.
func TestFilterOverSpool(t *testing.T) {
	file := fixtures + "sysdig-aks-eventhubs-records.unwrapped.jsonl"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	gz := t.TempDir() + "/audit.log.gz"
	writeGzip(t, gz, data)
	for _, f := range []string{`.requestObject.metadata.name != null or .verb == "watch"`, "-verb:get", `.user.username | test("node")`} {
		_, plain, _ := kaudit(t, "", "replay", "-o", "jsonl", "-f", f, file)
		code, spooled, stderr := kaudit(t, "", "replay", "-o", "jsonl", "-f", f, gz)
		if code != exitOK || spooled != plain || plain == "" {
			t.Errorf("-f %s: exit %d (%s); gzipped input printed\n%s\nplain input\n%s", f, code, stderr, spooled, plain)
		}
	}
}
