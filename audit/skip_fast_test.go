package audit

import (
	"strings"
	"testing"
)

// sameSkip fails t unless skipFast, where it takes doc, ends where the
// exact path (skipSlow) ends, with no error and the same high flag; and
// reports whether it took it. doc's first byte must be '{' or '['.
func sameSkip(t *testing.T, doc string) bool {
	t.Helper()
	slow := decoder{data: []byte(doc)}
	slow.skipSlow()
	fast := decoder{data: []byte(doc)}
	if !fast.skipFast() {
		if fast.pos != 0 || fast.high || fast.depth != 0 {
			t.Fatalf("%q: skipFast gave up but moved (pos %d, high %v, depth %d)", doc, fast.pos, fast.high, fast.depth)
		}
		return false
	}
	if slow.err != nil || fast.pos != slow.pos || fast.high != slow.high || fast.depth != slow.depth {
		t.Fatalf("%q: skipFast ended at %d (high %v, depth %d), skipSlow at %d (high %v, depth %d, error %v)",
			doc, fast.pos, fast.high, fast.depth, slow.pos, slow.high, slow.depth, slow.err)
	}
	return true
}

// TestSkipFast holds the fast skip to the exact one: valid values it must
// take (compact or not, escapes, bytes >= 0x80, every scalar), and broken
// ones it must leave to the exact path.
func TestSkipFast(t *testing.T) {
	valid := []string{
		`{}`, `[]`, `{"a":1}`, `[1,2,3]`, `{"a":{"b":[true,false,null]},"c":"d"}`,
		`{"extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=4a9c"]}}`,
		"{ \"a\" :\t[ 1 ,\r\n2 ] }", `[-0,0.5,1e5,1E+5,-1.25e-3,123456789012345678901234567890]`,
		`["a\"b","\\","\/\b\f\n\r\t","\u00e9\uD83D\uDE00"]`, "[\"caf\xc3\xa9\"]", "[\"\xff\xfe\"]", "{\"k\xc3\xa9\":1}",
		`{"a":[{},[],{"b":[]}]} trailing`, `[""]`, `[{"":""}]`,
		strings.Repeat("[", 64) + strings.Repeat("]", 64),
		`{"long":"` + strings.Repeat("x", 3000) + `","n":1}`,
	}
	for _, doc := range valid {
		if !sameSkip(t, doc) {
			t.Errorf("%q: skipFast did not take a valid value", doc)
		}
	}
	// Valid but left to the exact path: deeper than 64 levels.
	for _, doc := range []string{strings.Repeat("[", 65) + strings.Repeat("]", 65), strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)} {
		if sameSkip(t, doc) {
			t.Errorf("%q: skipFast took a value nested past 64", doc)
		}
	}
	invalid := []string{
		`{`, `[`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `[1,]`, `[,1]`, `{"a"1}`, `{a:1}`, `{"a":1]`, `[1}`,
		`[01]`, `[1.]`, `[.5]`, `[-]`, `[1e]`, `[1e+]`, `[tru]`, `[nul]`, `[falsey]`, `[True]`, `["a]`, `["\x"]`,
		`["\u12"]`, `["\u12g4"]`, "[\"a\x01\"]", "[\"a\\", `[1 2]`, `{"a":1 "b":2}`, `[+1]`, "[\x00]", "[1,\v2]",
	}
	for _, doc := range invalid {
		if sameSkip(t, doc) {
			t.Errorf("%q: skipFast took an invalid value", doc)
		}
	}
	// Near the nesting limit the exact path counts the levels.
	d := decoder{data: []byte(`[[1]]`), depth: maxDepth - 64}
	if d.skipFast() {
		t.Error("skipFast took a value near maxDepth")
	}
}

func FuzzSkipFast(f *testing.F) {
	for _, doc := range fixtureDocs(f, 16<<10) {
		f.Add(doc)
	}
	f.Add([]byte(`{"a":[1,"b",{"c":null}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 0 && (doc[0] == '{' || doc[0] == '[') {
			sameSkip(t, string(doc))
		}
	})
}

// TestCachedGroups holds the shared group lists to the decoding they
// replace: the same strings, in a slice with no spare capacity whose
// strings do not alias the input, the same end; arrays that are not
// compact lists of plain strings are left to the general path.
func TestCachedGroups(t *testing.T) {
	cases := []struct {
		doc  string
		want []string // nil: not taken
	}{
		{`["system:authenticated"]`, []string{"system:authenticated"}},
		{`["system:nodes","system:authenticated"],`, []string{"system:nodes", "system:authenticated"}},
		{`["",""]}`, []string{"", ""}},
		{`["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p"]`, strings.Split("abcdefghijklmnop", "")},
		{`["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]`, nil},
		{`[]`, nil}, {`[ "a"]`, nil}, {`["a" ]`, nil}, {`["a",null]`, nil}, {`["a\"b"]`, nil}, {"[\"caf\xc3\xa9\"]", nil},
		{`["a",1]`, nil}, {`["a"`, nil}, {`["a",]`, nil}, {`["a"}`, nil}, {`["` + strings.Repeat("x", 600) + `"]`, nil},
	}
	for _, tc := range cases {
		for round := range 2 { // a miss, then a hit
			data := []byte(tc.doc)
			d := decoder{data: data}
			got, ok := d.cachedGroups()
			if ok != (tc.want != nil) {
				t.Fatalf("%q (round %d): taken %v", tc.doc, round, ok)
			}
			if !ok {
				if d.pos != 0 {
					t.Fatalf("%q: not taken but moved to %d", tc.doc, d.pos)
				}
				continue
			}
			ref := decoder{data: data}
			var want []string
			ref.groupsFresh(&want, "", "user")
			if !slicesEqual(got, want) || d.pos != ref.pos || cap(got) != len(got) {
				t.Fatalf("%q (round %d): %q (cap %d) ending at %d; decoded %q ending at %d", tc.doc, round, got, cap(got), d.pos, want, ref.pos)
			}
			for _, g := range got {
				if g != "" && within([]byte(g), data) {
					t.Fatalf("%q: %q aliases the input", tc.doc, g)
				}
			}
			for i := range data {
				data[i] = 'X' // the cached list must not change with the input
			}
			if !slicesEqual(got, tc.want) {
				t.Fatalf("%q: the list changed with the input: %q", tc.doc, got)
			}
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEventLead holds the event's fixed lead to the general path: the
// lead exactly, with each of its bytes changed, and cut short, decode as
// encoding/json decodes them.
func TestEventLead(t *testing.T) {
	rest := `level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-01-15T09:00:00.000000Z"}`
	doc := eventLead + rest
	var top docFields
	d := decoder{data: []byte(doc)}
	if !d.eventPrefix(&top) || d.pos != len(eventLead)-1 || d.depth != 1 || top.kind != "Event" || top.apiVersion != "audit.k8s.io/v1" {
		t.Fatalf("eventPrefix on the lead: pos %d, depth %d, %+v", d.pos, d.depth, top)
	}
	sameAsStd(t, []byte(doc))
	for i := range len(eventLead) {
		for _, c := range []byte{' ', '\n', 'x', 'E', '"', '\\', ',', '}', 0, 0x80} {
			b := []byte(doc)
			b[i] = c
			sameAsStd(t, b)
			sameAsStd(t, []byte(doc[:i]+" "+doc[i:]))
		}
		sameAsStd(t, []byte(doc[:i]))
	}
}

// TestFixedLeads holds the fixed leads (statusLit, lead, leadStr,
// skipCredential, sourceIPs' one address) to the general path: each lead
// as written, with each of its bytes changed, with a space put before
// each byte, and cut short, decodes as encoding/json decodes it; and the
// leads are taken where they should be.
func TestFixedLeads(t *testing.T) {
	head := eventLead + `level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get",`
	tail := `,"stageTimestamp":"2026-01-15T09:00:00.000000Z"}`
	segments := []string{
		`"responseStatus":{"metadata":{},"code":200}`, `"responseStatus":{"metadata":{},"code":403}`,
		`"responseStatus":{"metadata":{},"code":999}`, `"responseStatus":{"metadata":{},"code":100}`,
		`"responseStatus":{"metadata":{},"code":2000}`, `"responseStatus":{"metadata":{},"code":20}`,
		`"responseStatus":{"metadata":{},"code":200,"message":"m"}`, `"responseStatus":{"metadata":{},"code":-20}`,
		`"responseStatus":{"metadata":{},"code":2e2}`, `"responseStatus":{"metadata":{},"code":020}`,
		`"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"r"}`,
		`"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"RBAC: \"x\""}`,
		`"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/decision":"forbid"}`,
		`"annotations":{"authorization.k8s.io/decision":"allow","apiserver.latency.k8s.io/etcd":"1ms"}`,
		`"user":{"username":"alice","groups":["g"]}`, `"user":{"username":"alice"}`, `"user":{"username":"a\"b","groups":[]}`,
		`"user":{"username":"alice","username":"bob"}`, `"impersonatedUser":{"username":"bob","groups":null}`,
		`"objectRef":{"resource":"pods","namespace":"ns","name":"p"}`, `"objectRef":{"resource":"pods"}`,
		`"objectRef":{"resource":"pods","resource":"nodes"}`, `"sourceIPs":["10.0.0.1"]`, `"sourceIPs":["10.0.0.1","::1"]`,
		`"sourceIPs":[""]`, `"sourceIPs":["a\"b"]`, `"sourceIPs":["1"],"sourceIPs":[null]`,
	}
	for _, id := range []string{`X509SHA256=4a9c319a6d2052d0a3add7c00dbbe84d0e0ebe5b4f52db1fecd3abe2a70be953`, ``, `a"b`, "cafÃ©"} {
		segments = append(segments, `"user":{"username":"u","groups":["g"],"extra":`+credentialLead+id+`"]}}`,
			`"user":{"username":"u","extra":`+credentialLead+id+`","x"]},"groups":["g"]}`)
	}
	for _, seg := range segments {
		doc := head + seg + tail
		sameAsStd(t, []byte(doc))
		for i := len(head); i < len(head)+len(seg); i++ {
			for _, c := range []byte{' ', 'x', '0', '9', '/', ':', '"', '\\', ',', '}', 0, 0x80} {
				b := []byte(doc)
				b[i] = c
				sameAsStd(t, b)
			}
			sameAsStd(t, []byte(doc[:i]+" "+doc[i:]))
			sameAsStd(t, []byte(doc[:i]))
		}
	}
	var e Event
	for _, tc := range []struct {
		doc  string
		code int32
	}{{`{"metadata":{},"code":200}`, 200}, {`{"metadata":{},"code":403},`, 403}, {`{"metadata":{},"code":2000}`, 0}, {`{"metadata":{},"code":020}`, 0}} {
		d := decoder{data: []byte(tc.doc)}
		e.Code = 0
		if ok := d.statusLit(&e); ok != (tc.code != 0) || e.Code != tc.code || ok && d.pos != len(`{"metadata":{},"code":200}`) {
			t.Errorf("statusLit(%q) = %v, code %d, pos %d", tc.doc, ok, e.Code, d.pos)
		}
	}
	for _, l := range decisionLits {
		d := decoder{data: []byte(l.lit + `authorization.k8s.io/reason":""}`)}
		if v, ok := d.lead(decisionLits[:]); !ok || v != l.value || d.pos != len(l.lit)-1 || d.depth != 1 {
			t.Errorf("lead(%q) = %q, %v at %d, depth %d", l.lit, v, ok, d.pos, d.depth)
		}
	}
}
