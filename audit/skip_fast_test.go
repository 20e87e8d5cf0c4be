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

// TestMegabyteLines decodes lines of a few megabytes (a body of many
// objects, compact and indented; a long escaped reason; invalid UTF-8 deep
// in a body) as encoding/json does: the fast skip, the one-pass strings
// and the windows' refills across the whole line.
func TestMegabyteLines(t *testing.T) {
	var body strings.Builder
	body.WriteString(`{"items":[`)
	for i := range 20000 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"metadata":{"name":"pod-` + strings.Repeat("x", i%90) + `","labels":{"app":"a\"b","n":12.5e-3}},"spec":{"containers":[{"image":"img:1","ports":[80,443],"privileged":true,"env":null}]}}`)
	}
	body.WriteString(`]}`)
	head := eventLead + `level":"RequestResponse","auditID":"a","stage":"ResponseComplete","verb":"list","user":{"username":"u","groups":["g"]},`
	docs := []string{
		head + `"requestObject":` + body.String() + `,"responseObject":` + body.String() + `}`,
		head + `"requestObject":` + strings.ReplaceAll(body.String(), ",", ",\n  ") + `}`,
		head + `"annotations":{"authorization.k8s.io/reason":"` + strings.Repeat(`RBAC: allowed by \"x\" `, 50000) + `"}}`,
		head + `"requestObject":` + strings.Replace(body.String(), "img:1", "img\xff:1", 7000) + `}`,
		head + `"requestObject":` + body.String()[:body.Len()-1] + `}`, // one bracket short
	}
	for _, doc := range docs {
		if len(doc) < 1<<20 {
			t.Fatalf("a test line of %d bytes", len(doc))
		}
		sameAsStd(t, []byte(doc))
	}
}
