package audit

import "testing"

// TestKeyTables checks that the fast path cannot disagree with the general
// one: no skipped name folds onto a field name, and each name's fast id is
// the general lookup's.
func TestKeyTables(t *testing.T) {
	for _, kt := range []*keyTable{eventKeys, userKeys, objectRefKeys, statusKeys, metadataKeys, annotationKeys} {
		for _, k := range kt.order {
			lit := string(litBytes(k))
			name := lit[1 : len(lit)-2]
			if got := kt.lookup(name); got != k.id || lit != `"`+name+`":` {
				t.Errorf("predicted %q: id %d, general lookup %d", lit, k.id, got)
			}
		}
		for c, entries := range kt.byFirst {
			for _, e := range entries {
				name := e.quoted[:len(e.quoted)-1]
				if name[0] != byte(c) {
					t.Errorf("%q filed under %q", name, rune(c))
				}
				if got := kt.lookup(name); got != e.id {
					t.Errorf("%q: fast id %d, general lookup %d", name, e.id, got)
				}
			}
		}
	}
}

// TestKnownKeyEdges decodes keys the fast path must leave to the general
// one, or must end exactly like it, against encoding/json.
func TestKnownKeyEdges(t *testing.T) {
	for _, doc := range []string{
		`{"kind":"Event","verb":"get","auditID":"a","stage":"ResponseComplete"}`,
		`{"kind" : "Event", "verb"	:"get"}`,
		`{"kind"`,
		`{"kind"   `,
		`{"kind":`,
		`{"kind":   `,
		`{"kind"x"Event"}`,
		`{"verb\"":"get","kind":"Event"}`,
		`{"verbs":"get","kind":"Event"}`,
		`{"VERB":"get","kind":"Event"}`,
		`{"ver\u0062":"get","kind":"Event"}`,
		`{"requestObject":{"a":[1,2]},"kind":"Event","auditID":"x","stage":"Panic"}`,
		`{"requestobject":1,"kind":"Event"}`,
		`{"user":{"uid":"u","extra":{"a":["b"]},"username":"bob","USERNAME":"al"},"kind":"Event"}`,
		`{"user":{"uid":7},"kind":"Event"}`,
		`{"objectRef":{"resourceVersion":"1","uid":"x","name":"n","Name":"m"},"kind":"Event"}`,
		`{"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","details":{"kind":"pods"},"code":403},"kind":"Event"}`,
		`{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z"},"kind":"Event","auditID":"a","stage":"Panic"}`,
		"{\"k\xffnd\":\"Event\"}",
		`{"k`,
		`{"`,
		// Keys one byte away from a predicted one, sharing its prefix, out
		// of order, repeated or escaped, with enough bytes after them for
		// the fast path.
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","reqeestURI":"/api/v1/namespaces/default/pods","auditID":"a","stage":"Panic","verb":"get"}`,
		`{"kind":"Event","requestURX":"/api/v1/namespaces/default/pods/long-enough","requestURI":"/api","auditID":"a","stage":"Panic"}`,
		`{"stage":"Panic","stageTimestamp":"2026-01-15T09:00:00.000000Z","stageTimestamq":"2026-01-15T09:00:00.000000Z","kind":"Event","auditID":"a"}`,
		`{"auditID":"a","kind":"Event","stage":"Panic","requestReceivedTimestamp":"2026-01-15T09:00:00.000000Z","requestReceivedTimestampX":"2026-01-15T09:00:01.000000Z"}`,
		`{"k\u0069nd":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"Panic","kind":"Other"}`,
		`{"kind":"Event","kind":"EventList","kind":"Event","auditID":"a","stage":"Panic","verb":"get","verb":"list","verb":"watch"}`,
		`{"user":{"username":"bob","usernamf":"al","groups":["g"],"userAgent":"x","username":"carol","uid":"0123456789abcdef0123"},"kind":"Event"}`,
		`{"objectRef":{"name":"n","namespace":"ns","names":"x","nam\u0065":"y","resource":"pods","resourceVersion":"1234567890"},"kind":"Event"}`,
		`{"annotations":{"authorization.k8s.io/decisiom":"forbid","authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"r","authorization.k8s.io/reasons":"x","authorization.k8s.io/decision":null},"kind":"Event","auditID":"a","stage":"Panic"}`,
		`{"annotations":{"authorization.k8s.io/reason":"r1","authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"r2"},"kind":"Event","auditID":"a","stage":"Panic"}`,
	} {
		sameAsStd(t, []byte(doc))
	}
}

// TestPredictedExact changes each byte of each predicted key (and the
// colon after it) to every other byte: the fast path must then match no
// key or another key exactly, never the changed one.
func TestPredictedExact(t *testing.T) {
	tables := []*keyTable{eventKeys, userKeys, objectRefKeys, statusKeys, metadataKeys, annotationKeys}
	for _, kt := range tables {
		for _, k := range kt.order {
			lit := litBytes(k)
			for i := range lit {
				for c := range 256 {
					data := append([]byte(nil), lit...)
					data[i] = byte(c)
					data = append(data, `"value that is long enough for the fast path"}`...)
					d := decoder{data: data}
					hint := 0
					id, ok := d.predicted(kt, &hint)
					if !ok {
						continue
					}
					got := kt.order[hint-1]
					if string(litBytes(got)) != string(data[:d.pos]) || got.id != id {
						t.Fatalf("%q: predicted %q (id %d)", data, litBytes(got), id)
					}
				}
			}
		}
	}
}

// litBytes is the `"name":` a keyLit matches.
func litBytes(k keyLit) []byte {
	var b []byte
	for i := range k.n {
		b = append(b, byte(k.w[i/8]>>(8*(i%8))))
	}
	return b
}
