package audit

import "testing"

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
