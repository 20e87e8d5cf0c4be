package audit

import "testing"

// TestKeyTables checks that the fast path cannot disagree with the general
// one: no skipped name folds onto a field name, and each name's fast id is
// the general lookup's.
func TestKeyTables(t *testing.T) {
	for _, kt := range []*keyTable{eventKeys, userKeys, objectRefKeys, statusKeys, metadataKeys} {
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
	} {
		sameAsStd(t, []byte(doc))
	}
}
