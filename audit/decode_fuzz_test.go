package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// errClass names the kind of a Decode error, the part of the contract
// callers branch on.
func errClass(err error) string {
	var syn *SyntaxError
	var unr *UnrecognisedError
	var item *ItemError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &item):
		return "item/" + errClass(item.Err)
	case errors.As(err, &syn):
		return "syntax"
	case errors.As(err, &unr):
		return "unrecognised"
	}
	return "other: " + err.Error()
}

// sameAsStd fails t unless decodeFast and decodeStd agree on doc: the same
// error class and message (syntax errors at the same offset, type errors on
// the same field) and deeply equal events, Raw compared by content. It also
// checks what only the fast decoder promises: Raw is a subslice of doc and
// events are appended after what dst held.
func sameAsStd(t *testing.T, doc []byte) {
	t.Helper()
	prefix := []Event{{AuditID: "kept"}}
	fast, ferr := decodeFast(doc, prefix[:1:1])
	std, serr := decodeStd(doc, nil)
	if fc, sc := errClass(ferr), errClass(serr); fc != sc {
		t.Fatalf("doc %q:\nfast error %s: %v\nstd  error %s: %v", doc, fc, ferr, sc, serr)
	}
	if ferr != nil && ferr.Error() != serr.Error() {
		t.Fatalf("doc %q:\nfast error: %v\nstd  error: %v", doc, ferr, serr)
	}
	if len(fast) == 0 || fast[0].AuditID != "kept" {
		t.Fatalf("doc %q: dst's events were not kept", doc)
	}
	fast = fast[1:]
	if len(fast) != len(std) {
		t.Fatalf("doc %q: fast decoded %d events, std %d", doc, len(fast), len(std))
	}
	for i := range fast {
		f, s := fast[i], std[i]
		if !bytes.Equal(f.Raw, s.Raw) {
			t.Fatalf("doc %q: event %d Raw\nfast %q\nstd  %q", doc, i, f.Raw, s.Raw)
		}
		if !within(f.Raw, doc) {
			t.Fatalf("doc %q: event %d Raw is not a subslice of doc", doc, i)
		}
		f.Raw, s.Raw = nil, nil
		if !reflect.DeepEqual(f, s) {
			t.Fatalf("doc %q: event %d\nfast %#v\nstd  %#v", doc, i, f, s)
		}
	}
	sameWithArena(t, doc, fast, ferr)
	sameWithRoom(t, doc, fast, ferr)
}

// staleEvent is an event left in a reused slice's spare room.
var staleEvent = Event{AuditID: "stale", Verb: "get", User: UserInfo{Name: "u", Groups: []string{"g"}},
	Object: ObjectRef{Resource: "pods", Subresource: "log"}, Decision: "allow", Phases: []Phase{{Name: "etcd"}}, BadUTF8: true}

// sameWithRoom fails t unless decoding doc after one event into a slice
// with spare room holding stale events (as a reused batch's does) gives
// what decodeFast gave without room (events want, error werr): the event
// decoded in place and an EventList's items moved down over its place
// keep nothing of what was there.
func sameWithRoom(t *testing.T, doc []byte, want []Event, werr error) {
	t.Helper()
	for _, room := range []int{1, 2, 8} {
		dst := make([]Event, 1, 1+room)
		dst[0].AuditID = "kept"
		for i := 1; i <= room; i++ {
			dst[:i+1][i] = staleEvent
		}
		got, err := decodeFast(doc, dst)
		if fmt.Sprint(err) != fmt.Sprint(werr) || len(got) != 1+len(want) || got[0].AuditID != "kept" {
			t.Fatalf("doc %q, room %d: %d events, error %v; without room: %d, %v", doc, room, len(got)-1, err, len(want), werr)
		}
		for i := range want {
			if !reflect.DeepEqual(got[1+i], want[i]) {
				t.Fatalf("doc %q, room %d: event %d\n%#v\nwithout room:\n%#v", doc, room, i, got[1+i], want[i])
			}
		}
	}
}

// sameWithArena fails t unless DecodeArena decodes doc as decodeFast did
// (events want, error werr), with an arena too small for some strings and
// none at all: where unescaped strings are written changes nothing else.
func sameWithArena(t *testing.T, doc []byte, want []Event, werr error) {
	t.Helper()
	for _, size := range []int{0, 40, 1 << 16} {
		arena := make([]byte, 3, 3+size) // what is there already stays
		copy(arena, "abc")
		got, err := DecodeArena(doc, nil, &arena)
		if fmt.Sprint(err) != fmt.Sprint(werr) || len(got) != len(want) {
			t.Fatalf("doc %q, arena %d: %d events, error %v; without: %d, %v", doc, size, len(got), err, len(want), werr)
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("doc %q, arena %d: event %d\n%#v\nwithout:\n%#v", doc, size, i, got[i], want[i])
			}
		}
		if string(arena[:3]) != "abc" || len(arena) > cap(arena) {
			t.Fatalf("doc %q, arena %d: the arena's first bytes were overwritten: %q", doc, size, arena)
		}
	}
}

func within(sub, doc []byte) bool {
	if len(sub) == 0 {
		return true
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(doc)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return p >= lo && p+uintptr(len(sub)) <= lo+uintptr(len(doc))
}

// fixtureDocs returns every line of every fixture file, and each file whole
// when it is at most maxWhole bytes (big seeds slow the fuzzer down).
func fixtureDocs(tb testing.TB, maxWhole int) [][]byte {
	tb.Helper()
	files, err := filepath.Glob("../testdata/public/*")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures: %v", err)
	}
	var docs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) <= maxWhole {
			docs = append(docs, b)
		}
		for line := range bytes.Lines(b) {
			docs = append(docs, bytes.TrimSuffix(line, []byte("\n")))
		}
	}
	return docs
}

func TestDecodeFastMatchesStd(t *testing.T) {
	for _, doc := range fixtureDocs(t, 1<<30) {
		sameAsStd(t, doc)
	}
	for _, tc := range edgeCases {
		sameAsStd(t, []byte(tc.doc))
	}
}

func FuzzDecode(f *testing.F) {
	for _, doc := range fixtureDocs(f, 16<<10) {
		f.Add(doc)
	}
	for _, tc := range edgeCases {
		f.Add([]byte(tc.doc))
	}
	for _, doc := range generated(40) { // the fixed leads, the usual extra, shared groups
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameAsStd(t, doc)
	})
}

// FuzzDecodeShaped compares the decoders on audit-shaped documents built
// from the fuzz input: known keys in odd spellings, repeated keys, nulls and
// values of the wrong type, at every level. Mutating raw bytes rarely
// produces these; they are where a typed decoder can part ways with
// encoding/json.
func FuzzDecodeShaped(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\xff\xfe\xfd\xfc\xfb\xfa", "0123456789abcdefghij"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g := shaper{in: in}
		doc := g.doc()
		sameAsStd(t, doc)
		// Again with room after every key for the fast paths that read
		// a few words ahead (predicted keys, masks), which a short
		// document's last keys leave to the general path.
		sameAsStd(t, append(doc, "                                        "...))
	})
}

// shaper turns fuzz bytes into a JSON document, one choice per byte.
type shaper struct {
	in  []byte
	out []byte
}

func (g *shaper) pick(n int) int {
	if len(g.in) == 0 {
		return 0
	}
	c := g.in[0]
	g.in = g.in[1:]
	return int(c) % n
}

// Field names per object kind; the value shapes they expect are chosen at
// random anyway.
var shapes = map[string][]string{
	"top":       {"kind", "apiVersion", "items", "auditID", "stage", "level", "verb", "requestURI", "user", "impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "annotations", "requestReceivedTimestamp", "stageTimestamp", "timestamp", "metadata", "requestObject", "responseObject"},
	"user":      {"username", "groups", "extra", "uid"},
	"objectRef": {"apiGroup", "apiVersion", "resource", "subresource", "namespace", "name", "uid", "resourceVersion"},
	"status":    {"code", "message", "metadata", "status", "reason", "details"},
	"metadata":  {"creationTimestamp"},
	"annotations": {AnnotationDecision, AnnotationReason, AnnotationLatencyPrefix + "etcd",
		AnnotationLatencyPrefix + "total", "other"},
}

var nestedShape = map[string]string{"user": "user", "impersonatedUser": "user", "objectRef": "objectRef",
	"responseStatus": "status", "metadata": "metadata", "annotations": "annotations", "items": "top"}

var scalars = []string{`"Event"`, `"EventList"`, `"audit.k8s.io/v1"`, `"ResponseComplete"`, `"Metadata"`,
	`"get"`, `""`, `"forbid"`, `"1.5ms"`, `"bogus"`, `"2024-01-02T03:04:05.123Z"`, `"2022-11-29 00:09:04.38"`,
	`"apps/v1"`, `"a\u0026b"`, `"\ud800"`, `"\ud83d\ude00"`, "\"\xff\"", `null`, `true`, `0`, `-0`, `403`,
	`1e2`, `2147483648`, `1.5`, `[]`, `{}`}

func (g *shaper) doc() []byte {
	g.object("top", 0)
	return g.out
}

func (g *shaper) key(name string) {
	switch g.pick(8) {
	case 0:
		name = strings.ToUpper(name)
	case 1:
		name = strings.NewReplacer("k", "\u212a", "s", "ſ").Replace(name)
	case 2:
		name = fmt.Sprintf(`\u%04x`, name[0]) + name[1:]
	case 3:
		name = "unknown"
	case 4:
		// Space around the colon (pretty-printed), which the known-key
		// fast path handles itself.
		g.out = append(g.out, '"')
		g.out = append(g.out, name...)
		g.out = append(g.out, "\" \n: \t"...)
		return
	}
	g.out = append(g.out, '"')
	g.out = append(g.out, name...)
	g.out = append(g.out, '"', ':')
}

func (g *shaper) object(kind string, depth int) {
	g.out = append(g.out, '{')
	names := shapes[kind]
	for i, n := 0, g.pick(8); i < n; i++ {
		if i > 0 {
			g.out = append(g.out, ',')
		}
		name := names[g.pick(len(names))]
		g.key(name)
		g.value(name, depth+1)
	}
	g.out = append(g.out, '}')
}

func (g *shaper) value(name string, depth int) {
	switch c := g.pick(4); {
	case c == 0 && depth < 4 && nestedShape[name] != "":
		if name == "items" {
			g.array("top", depth)
		} else {
			g.object(nestedShape[name], depth)
		}
	case c == 1 && depth < 4:
		g.array("", depth)
	default:
		g.out = append(g.out, scalars[g.pick(len(scalars))]...)
	}
}

func (g *shaper) array(kind string, depth int) {
	g.out = append(g.out, '[')
	for i, n := 0, g.pick(5); i < n; i++ {
		if i > 0 {
			g.out = append(g.out, ',')
		}
		if kind != "" && g.pick(2) == 0 {
			g.object(kind, depth+1)
		} else {
			g.out = append(g.out, scalars[g.pick(len(scalars))]...)
		}
	}
	g.out = append(g.out, ']')
}
