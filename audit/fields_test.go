package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fieldGroups are the groups of Fields one by one.
var fieldGroups = []Fields{FieldVerb, FieldRequestURI, FieldUser, FieldUserGroups, FieldImpersonated,
	FieldImpersonatedGroups, FieldSourceIP, FieldUserAgent, FieldObject, FieldMessage, FieldDecision,
	FieldReason, FieldPhases, FieldSubresource}

// testMasks are the masks the field tests decode with: all, none, each
// group alone and all but each group, what the users view keeps, and
// a few mixed sets.
func testMasks() []Fields {
	masks := []Fields{0, AllFields, NoFields,
		FieldUser | FieldImpersonated | FieldDecision | FieldVerb | FieldRequestURI | FieldSubresource, // the users view (LongRunning)
		FieldUser | FieldImpersonated | FieldDecision | FieldVerb,
		FieldUser | FieldUserGroups | FieldImpersonated | FieldImpersonatedGroups,
		FieldDecision | FieldPhases | FieldObject | FieldSourceIP,
		FieldVerb | FieldRequestURI | FieldUserAgent | FieldMessage | FieldReason,
	}
	for _, g := range fieldGroups {
		masks = append(masks, g, AllFields&^g)
	}
	return masks
}

func TestFieldGroupsCoverAll(t *testing.T) {
	var all Fields
	for _, g := range fieldGroups {
		if all&g != 0 {
			t.Fatalf("group %b listed twice", g)
		}
		all |= g
	}
	if all != AllFields || NoFields&AllFields != 0 || NoFields.normal() != 0 || Fields(0).normal() != AllFields {
		t.Fatalf("groups %b, AllFields %b, NoFields %b", all, AllFields, NoFields)
	}
	// Clear with each group alone clears exactly one field of an event
	// with every field set.
	full := Event{Verb: "v", RequestURI: "/u", User: UserInfo{Name: "n", Groups: []string{"g"}},
		Impersonated: UserInfo{Name: "i", Groups: []string{"h"}}, SourceIP: "ip", UserAgent: "ua",
		Object: ObjectRef{Name: "o", Subresource: "s"}, Message: "m", Decision: "allow", Reason: "r", Phases: []Phase{{Name: "etcd"}}}
	seen := map[string]bool{}
	for _, g := range fieldGroups {
		e := full
		(AllFields &^ g).Clear(&e)
		if reflect.DeepEqual(e, full) {
			t.Fatalf("Clear without group %b changed nothing", g)
		}
		s := fmt.Sprintf("%+v", e)
		if seen[s] {
			t.Fatalf("Clear without group %b cleared what another group clears", g)
		}
		seen[s] = true
	}
}

// sameWithFields fails t unless decoding doc with each mask gives the
// error decoding it with AllFields gives (or none) and the same events
// with exactly the fields the mask leaves out zeroed; and the masked
// decode writes no more into an arena than the full one.
func sameWithFields(t *testing.T, doc []byte, masks []Fields) {
	t.Helper()
	prefix := []Event{{AuditID: "kept"}}
	arena := make([]byte, 0, 1<<16)
	full, ferr := DecodeFields(doc, prefix[:1:1], &arena, AllFields)
	fullArena := len(arena)
	for _, m := range masks {
		arena := make([]byte, 0, 1<<16)
		got, err := DecodeFields(doc, prefix[:1:1], &arena, m)
		if fmt.Sprint(err) != fmt.Sprint(ferr) || fmt.Sprintf("%T", err) != fmt.Sprintf("%T", ferr) {
			t.Fatalf("doc %q, fields %b: error %v; with all fields %v", doc, m, err, ferr)
		}
		if len(got) != len(full) || got[0].AuditID != "kept" {
			t.Fatalf("doc %q, fields %b: %d events; with all fields %d", doc, m, len(got), len(full))
		}
		for i := 1; i < len(got); i++ {
			want := full[i]
			m.Clear(&want)
			if !reflect.DeepEqual(got[i], want) {
				g := got[i]
				g.Raw, want.Raw = nil, nil
				t.Fatalf("doc %q, fields %b: event %d\n%+v\nwant\n%+v", doc, m, i, g, want)
			}
		}
		if len(arena) > fullArena {
			t.Fatalf("doc %q, fields %b: %d arena bytes; with all fields %d", doc, m, len(arena), fullArena)
		}
	}
}

// corpusDocs are the documents of the checked-in fuzz corpus of FuzzDecode
// and, through the shaper, of FuzzDecodeShaped.
func corpusDocs(t *testing.T) [][]byte {
	var docs [][]byte
	for _, fz := range []string{"FuzzDecode", "FuzzDecodeShaped"} {
		files, _ := filepath.Glob(filepath.Join("testdata/fuzz", fz, "*"))
		if len(files) == 0 {
			t.Fatalf("no corpus for %s", fz)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, arg, _ := bytes.Cut(b, []byte("\n[]byte("))
			s, err := strconv.Unquote(string(bytes.TrimSuffix(bytes.TrimSpace(arg), []byte(")"))))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if fz == "FuzzDecodeShaped" {
				g := shaper{in: []byte(s)}
				s = string(g.doc())
			}
			docs = append(docs, []byte(s))
		}
	}
	return docs
}

func TestDecodeFields(t *testing.T) {
	masks := testMasks()
	docs := fixtureDocs(t, 1<<30)
	docs = append(docs, corpusDocs(t)...)
	docs = append(docs, generated(200)...)
	for _, tc := range edgeCases {
		docs = append(docs, []byte(tc.doc))
	}
	for _, doc := range docs {
		sameWithFields(t, doc, masks)
	}
}

// TestDecodeFieldsTypeErrors: a value of the wrong type in a field left
// out is the same error as when it is kept, and one in a field kept is
// not hidden by one left out before it.
func TestDecodeFieldsTypeErrors(t *testing.T) {
	const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete",`
	docs := []string{
		head + `"verb":1}`,
		head + `"verb":"get","requestURI":{}}`,
		head + `"user":{"username":true}}`,
		head + `"user":{"username":"u","groups":["a",1]}}`,
		head + `"user":{"groups":"a"}}`,
		head + `"impersonatedUser":{"username":"u","groups":[null,[]]}}`,
		head + `"sourceIPs":["1.2.3.4",5]}`,
		head + `"sourceIPs":[5]}`,
		head + `"sourceIPs":"1.2.3.4"}`,
		head + `"userAgent":[]}`,
		head + `"objectRef":{"resource":"pods","name":7}}`,
		head + `"objectRef":{"NAME":7}}`,
		head + `"responseStatus":{"message":1,"code":200}}`,
		head + `"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":1}}`,
		head + `"annotations":{"authorization.k8s.io/decision":2}}`,
		head + `"annotations":{"apiserver.latency.k8s.io/etcd":false}}`,
		head + `"annotations":{"other":false}}`,
		head + `"verb":1,"user":{"username":true}}`,
		head + `"user":{"username":true},"verb":1}`,
		head + `"verb":"\x"}`,
		head + `"user":{"username":"\ud800"}}`,
		head + `"userAgent":"` + "\xff" + `"}`,
	}
	for _, doc := range docs {
		_, ferr := DecodeFields([]byte(doc), nil, nil, AllFields)
		if ferr == nil && !bytes.Contains([]byte(doc), []byte(`\ud800`)) && !bytes.Contains([]byte(doc), []byte("\xff")) {
			t.Errorf("%s: no error with every field kept", doc)
		}
		sameWithFields(t, []byte(doc), testMasks())
	}
}

// TestDecodeFieldsArena: strings left out are not unescaped into the
// arena.
func TestDecodeFieldsArena(t *testing.T) {
	doc := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete",` +
		`"verb":"g\"et","requestURI":"/\"x","user":{"username":"\"u","groups":["\"g"]},` +
		`"impersonatedUser":{"username":"\"i","groups":["\"h"]},"sourceIPs":["\"1"],"userAgent":"\"ua",` +
		`"objectRef":{"resource":"\"r","name":"\"n"},"responseStatus":{"message":"\"m","code":403},` +
		`"annotations":{"authorization.k8s.io/decision":"\"d","authorization.k8s.io/reason":"\"r",` +
		`"apiserver.latency.k8s.io/etcd":"1\u006ds"}}`)
	for _, m := range testMasks() {
		arena := make([]byte, 0, 4096)
		evs, err := DecodeFields(doc, nil, &arena, m)
		if err != nil || len(evs) != 1 {
			t.Fatalf("fields %b: %v", m, err)
		}
		if m == NoFields && len(arena) != 0 {
			t.Fatalf("NoFields wrote %q into the arena", arena)
		}
		for _, g := range fieldGroups {
			e := evs[0]
			g.Clear(&e) // all but g cleared
			e.Raw = nil
			if m.normal()&g == 0 && !reflect.DeepEqual(e, Event{AuditID: "a", Stage: StageResponseComplete, Code: 403}) {
				t.Fatalf("fields %b: group %b was kept: %+v", m, g, e)
			}
		}
	}
}

// FuzzDecodeFields holds decoding with a mask to decoding everything.
func FuzzDecodeFields(f *testing.F) {
	for i, doc := range fixtureDocs(f, 16<<10) {
		f.Add(doc, uint32(testMasks()[i%len(testMasks())]))
	}
	for i, doc := range generated(40) {
		f.Add(doc, uint32(testMasks()[i%len(testMasks())]))
	}
	f.Fuzz(func(t *testing.T, doc []byte, m uint32) {
		sameWithFields(t, doc, []Fields{Fields(m), Fields(m) &^ AllFields, ^Fields(m)})
	})
}

// TestMaskedFastPaths holds the checks of fields left out (skipPlainStrings
// for groups, skipFlatStrings for objectRef) to decoding the fields: each
// segment as written, with each of its bytes changed, with a space put
// before each byte, and cut short, gives the same error and event with
// the field left out as kept; and the fast paths are taken where they
// should be.
func TestMaskedFastPaths(t *testing.T) {
	head := eventLead + `level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get",`
	tail := `,"stageTimestamp":"2026-01-15T09:00:00.000000Z"}`
	segments := []string{
		`"user":{"username":"u","groups":["system:authenticated","system:masters"]}`,
		`"user":{"username":"u","groups":["g"],"groups":["h",null]}`, `"user":{"groups":[""]}`,
		`"impersonatedUser":{"username":"u","groups":["a","b","c"]}`,
		`"objectRef":{"resource":"pods","namespace":"ns","name":"p","uid":"x","apiVersion":"v1","resourceVersion":"1"}`,
		`"objectRef":{"uid":"x"}`, `"objectRef":{"NAME":"x","name":"y"}`, `"objectRef":{"resource":"a\"b"}`,
		`"objectRef":{"resource":"pods","namespace":"ns","name":"p","subresource":"exec","apiVersion":"v1"}`,
		`"objectRef":{"subresource":"exec","subresource":"log"}`, `"objectRef":{"subresource":"exec","Subresource":"log"}`,
		`"objectRef":{"subresourcE":"exec"}`, `"objectRef":{"subresources":"exec","subresourc":"x"}`,
	}
	masks := []Fields{NoFields, AllFields &^ FieldUserGroups &^ FieldImpersonatedGroups, AllFields &^ FieldObject,
		FieldSubresource, AllFields &^ FieldSubresource}
	for _, seg := range segments {
		doc := head + seg + tail
		sameWithFields(t, []byte(doc), masks)
		for i := len(head); i < len(head)+len(seg); i++ {
			for _, c := range []byte{' ', 'x', '0', '[', ']', '{', ':', '"', '\\', ',', '}', 0, 0x80} {
				b := []byte(doc)
				b[i] = c
				sameWithFields(t, b, masks)
			}
			sameWithFields(t, []byte(doc[:i]+" "+doc[i:]), masks)
			sameWithFields(t, []byte(doc[:i]), masks)
		}
	}
	for _, tc := range []struct {
		doc  string
		flat bool // skipFlatStrings rather than skipPlainStrings
		ok   bool
		sub  string // what skipFlatStrings finds as the subresource
	}{
		{`["a","b"],`, false, true, ""}, {`["a"]}`, false, true, ""}, {`[]`, false, false, ""}, {`["a",1]`, false, false, ""},
		{`["a\"b"]`, false, false, ""}, {`["a" ]`, false, false, ""}, {`["a",`, false, false, ""},
		{`{"a":"b","c":"d"},`, true, true, ""}, {`{"a":"b"}`, true, true, ""}, {`{}`, true, false, ""}, {`{"a":1}`, true, false, ""},
		{`{"a":"b",}`, true, false, ""}, {`{"a":"b"`, true, false, ""}, {`{"a" :"b"}`, true, false, ""},
		{`{"a":{"b":"c"}}`, true, false, ""}, {`{"subresource":"exec","name":"x"}`, true, true, "exec"},
		{`{"subresource":"exec","subresource":"log"}`, true, true, "log"}, {`{"subresource":"e","SUBRESOURCE":"x"}`, true, false, ""},
		{`{"subresourcf":"e"}`, true, false, ""}, {`{"subresource":""}`, true, true, ""},
	} {
		d := decoder{data: []byte(tc.doc)}
		d.win.fill(d.data, 0)
		sub := "before"
		skip := d.skipPlainStrings
		if tc.flat {
			skip = func() bool { return d.skipFlatStrings(&sub) }
		}
		want := 0
		if tc.ok { // the first closing bracket ends it
			want = bytes.IndexAny(d.data, "]}") + 1
		}
		if ok := skip(); ok != tc.ok || d.pos != want {
			t.Errorf("%s: %v at %d, want %v at %d", tc.doc, ok, d.pos, tc.ok, want)
		}
		if wantSub := map[bool]string{true: tc.sub, false: "before"}[tc.ok && strings.Contains(tc.doc, "subresource")]; tc.flat && sub != wantSub {
			t.Errorf("%s: subresource %q, want %q", tc.doc, sub, wantSub)
		}
	}
}

// TestDecoderReuse: a Decoder used for document after document (errors,
// EventLists, a long one before a short one) decodes each exactly as a
// fresh decoder does: nothing of one document's state leaks into the next.
func TestDecoderReuse(t *testing.T) {
	docs := fixtureDocs(t, 1<<30)
	docs = append(docs, corpusDocs(t)...)
	docs = append(docs, generated(100)...)
	for _, tc := range edgeCases {
		docs = append(docs, []byte(tc.doc))
	}
	for _, keep := range []Fields{0, FieldUser | FieldDecision} {
		dec := Decoder{Fields: keep}
		for i := range 2 * len(docs) {
			doc := docs[i%len(docs)]
			if i >= len(docs) { // the other way round
				doc = docs[len(docs)-1-i%len(docs)]
			}
			// With and without room, each its own: decoding in place
			// into one dst would compare the reused decoder's events
			// with themselves. The reused one's room holds a stale event,
			// as a recycled batch's does.
			room := 1 + i%3
			wantDst, gotDst := make([]Event, 1, room), make([]Event, 1, room)
			if room > 1 {
				gotDst[:2][1] = staleEvent
			}
			want, werr := DecodeFields(doc, wantDst, nil, keep)
			got, err := dec.Decode(doc, gotDst, nil)
			if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("doc %q, fields %b: reused decoder gave %d events, %v; fresh %d, %v", doc, keep, len(got), err, len(want), werr)
			}
		}
	}
}

// FuzzDecodeFieldsShaped is FuzzDecodeFields on the audit-shaped documents
// of FuzzDecodeShaped (odd spellings, repeated keys, nulls and values of
// the wrong type at every level), where a field left out could hide an
// error.
func FuzzDecodeFieldsShaped(f *testing.F) {
	for i, seed := range []string{"", "\x00", "\x01\x02\x03", "\xff\xfe\xfd\xfc\xfb\xfa", "0123456789abcdefghij"} {
		f.Add([]byte(seed), uint32(testMasks()[i]))
	}
	f.Fuzz(func(t *testing.T, in []byte, m uint32) {
		g := shaper{in: in}
		doc := g.doc()
		masks := []Fields{Fields(m), Fields(m) &^ AllFields, ^Fields(m)}
		sameWithFields(t, doc, masks)
		sameWithFields(t, append(doc, "                                        "...), masks)
	})
}
