package redact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

func fixture(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/secrets.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct{ AuditID string }
		line := append([]byte(nil), sc.Bytes()...)
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		out[ev.AuditID] = line
	}
	return out
}

func TestEvent(t *testing.T) {
	events := fixture(t)
	for _, tc := range []struct {
		id     string
		hidden []string // must not appear in the output
		kept   []string // must still appear
		marks  int      // redaction marks expected
	}{
		{"a1", []string{"UzNjcjN0UGFzcw==", "YWRtaW4=", "PlainS3cret"},
			[]string{`"password":"<redacted sha256:`, `"user":"<redacted`, `"extra":"<redacted`, `"type":"Opaque"`, `"name":"db-pass"`, `"kubectl.kubernetes.io/last-applied-configuration":"<redacted`}, 7},
		{"a2", []string{"MDEyMzQ1Njc4OWFiY2RlZg==", "YWJjZGVm", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t", "Y2VydA=="},
			[]string{`"token-secret":"<redacted`, `"type":"bootstrap.kubernetes.io/token"`, `"name":"tls-cert"`}, 5},
		{"a3", []string{"TmV3UGFzcw=="}, []string{`"password":"<redacted`}, 2},
		{"a4", []string{"SnNvblBhdGNo"}, []string{`"value":"keep-me"`, `"path":"/data/password"`}, 1},
		{"a5", []string{"review-me"}, []string{`"token":"<redacted`, `"authenticated":true`}, 2},
		{"a6", []string{"issued-token"}, []string{`"expirationSeconds":3607`, `"token":"<redacted`}, 2},
		{"a7", []string{"sa-token-value", "hunter2", "LS0tLS1CRUdJTiBLRVk=", "abc.def"},
			[]string{`"username":"deploy"`, `"count":3`, `"server":"https://10.1.1.1"`}, 4},
		{"a8", nil, []string{`"mode":"fast"`, `"path":"token"`}, 0},
		{"a9", nil, nil, 0},
		{"a10", []string{"escaped-key-secret"}, nil, 1},
	} {
		t.Run(tc.id, func(t *testing.T) {
			raw := events[tc.id]
			orig := string(raw)
			got := Event(raw)
			if string(raw) != orig {
				t.Fatal("Event modified its input")
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
			for _, h := range tc.hidden {
				if bytes.Contains(got, []byte(h)) {
					t.Errorf("%q still shown in %s", h, got)
				}
			}
			for _, k := range tc.kept {
				if !bytes.Contains(got, []byte(k)) {
					t.Errorf("%q missing from %s", k, got)
				}
			}
			if n := bytes.Count(got, []byte("<redacted sha256:")); n != tc.marks {
				t.Errorf("%d marks, want %d: %s", n, tc.marks, got)
			}
			if tc.marks == 0 && &got[0] != &raw[0] {
				t.Errorf("nothing to redact, but a copy was made")
			}
			// The event still decodes to the same columns.
			a, errA := audit.Decode(raw, nil)
			b, errB := audit.Decode(got, nil)
			if errA != nil || errB != nil || a[0].AuditID != b[0].AuditID || a[0].Verb != b[0].Verb || a[0].User.Name != b[0].User.Name {
				t.Errorf("decoding changed: %v %v", errA, errB)
			}
		})
	}
}

func TestMarkIsStableHash(t *testing.T) {
	events := fixture(t)
	got := string(Event(events["a3"]))
	// The same password in the request and the response gives the same mark.
	m := Mark([]byte(`"TmV3UGFzcw=="`))
	if strings.Count(got, m) != 2 {
		t.Errorf("want %s twice in %s", m, got)
	}
	if !strings.HasPrefix(m, `"<redacted sha256:`) || len(m) != len(`"<redacted sha256:>"`)+12 {
		t.Errorf("mark %s", m)
	}
	if Mark([]byte(`"a"`)) == Mark([]byte(`"b"`)) {
		t.Error("different values, same mark")
	}
}

func TestOutputShowSecrets(t *testing.T) {
	raw := fixture(t)["a5"]
	if bytes.Contains(Output(raw), []byte("review-me")) {
		t.Fatal("Output shows a token by default")
	}
	SetShowSecrets(true)
	defer SetShowSecrets(false)
	if !bytes.Equal(Output(raw), raw) {
		t.Fatal("Output redacts with --show-secrets")
	}
}

// TestFastPathNoAlloc: events without a body, and bodies without anything
// to redact (generated pods), pass without allocating.
func TestFastPathNoAlloc(t *testing.T) {
	lines := genLines(t, 2000)
	bodies := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"requestObject"`)) {
			bodies++
		}
		if got := Event(l); &got[0] != &l[0] {
			t.Fatalf("generated event changed: %s", l)
		}
	}
	if bodies == 0 {
		t.Fatal("the generator made no bodies: the test proves nothing")
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, l := range lines {
			Event(l)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

func genLines(t testing.TB, n int) [][]byte {
	t.Helper()
	g := gen.New(gen.Config{Seed: 1})
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.TrimSuffix(g.Next(nil), []byte("\n"))
	}
	return out
}

func FuzzEvent(f *testing.F) {
	for _, l := range fixture(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		orig := string(raw)
		got := Event(raw)
		if string(raw) != orig {
			t.Fatal("input modified")
		}
		if json.Valid(raw) && !json.Valid(got) {
			t.Fatalf("valid in, invalid out: %s -> %s", raw, got)
		}
	})
}

func BenchmarkEvent(b *testing.B) {
	lines := genLines(b, 5000)
	secrets := fixture(b)
	var bytesIn int64
	for _, l := range lines {
		bytesIn += int64(len(l))
	}
	b.Run("generated", func(b *testing.B) {
		b.SetBytes(bytesIn)
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				Event(l)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/event")
	})
	b.Run("secret", func(b *testing.B) {
		l := secrets["a1"]
		b.SetBytes(int64(len(l)))
		b.ReportAllocs()
		for b.Loop() {
			Event(l)
		}
	})
}

// TestEventShapes: spacing, case and nesting the fast path must not miss.
func TestEventShapes(t *testing.T) {
	for _, tc := range []struct{ in, hidden string }{
		{"{\n  \"requestObject\" : {\n    \"spec\" : { \"TOKEN\" :\t\"s1\" }\n  }\n}", "s1"},
		{`{"responseObject":{"items":[{"kind":"Secret","data":{"k":"s2"}}]}}`, "s2"},
		{`{"requestObject":{"kind":"List","items":[{"kind" : "Secret","stringData":{"k":"s3"}}]}}`, "s3"},
		{`{"objectRef":{"resource":"secrets"},"requestObject":{"data":"s4"}}`, "s4"},
		{`{"requestObject":{"a":{"b":[{"Authorization":"Bearer s5"}]}}}`, "s5"},
		{`{"requestObject":{"spec":{"password":42424242}}}`, "42424242"},
		// A body key written with \u escapes, which the fast path cannot see.
		{`{"request\u004fbject":{"spec":{"token":"s7"}}}`, "s7"},
		{`{"respons\u0065Object":{"spec":{"token":"s8"}}}`, "s8"},
	} {
		got := Event([]byte(tc.in))
		if bytes.Contains(got, []byte(tc.hidden)) || !json.Valid(got) {
			t.Errorf("%s -> %s", tc.in, got)
		}
	}
	// The response of a secret's subresource-less get, body after objectRef
	// or before it: both are found.
	late := `{"responseObject":{"data":{"k":"s6"}},"objectRef":{"resource":"secrets"}}`
	if got := Event([]byte(late)); bytes.Contains(got, []byte("s6")) {
		t.Errorf("objectRef after the body: %s", got)
	}
}

func TestNeverAdds(t *testing.T) {
	for _, c := range []struct {
		needle string
		want   bool
	}{
		{"Forbidden", true}, {"secrets", true}, {"kube-system", true},
		{"redacted", false}, {"sha256:ab", false}, {"3f>", false}, {`"x`, false},
		{"", false}, {"deadbeef", false}, {"d", false}, {"z", true},
	} {
		if got := NeverAdds([]byte(c.needle)); got != c.want {
			t.Errorf("NeverAdds(%q) = %v, want %v", c.needle, got, c.want)
		}
	}
	// What it promises: no needle it accepts appears in a mark.
	m := Mark([]byte("hunter2"))
	for i := range len(m) {
		for j := i + 1; j <= len(m); j++ {
			if NeverAdds([]byte(m[i:j])) {
				t.Fatalf("NeverAdds(%q) true, but it is in mark %q", m[i:j], m)
			}
		}
	}
}
