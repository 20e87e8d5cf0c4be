package audit

import (
	"strings"
	"testing"
)

// TestLeadsMatchStd holds the fixed leads, the groups and date caches and
// the fast skip to encoding/json where they meet repeated keys, keys in
// other cases, escapes, odd numbers and invalid dates.
func TestLeadsMatchStd(t *testing.T) {
	const h = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","`
	docs := []string{
		h + `level":"Metadata","user":{"username":"bob","groups":["a","b"]},"user":{"groups":[null,"c",null]}}`,
		h + `user":{"username":"bob","groups":["a","b"],"groups":[null]}}`,
		h + `user":{"groups":["a","b"]},"impersonatedUser":{"groups":["a","b"]},"user":{"groups":["x"]}}`,
		h + `user":{"username":"bob","username":"al","groups":["a"]}}`,
		h + `user":{"username":"b\u00e9","groups":["a"]}}`,
		h + `user":{"username":"bob","Username":"x","Groups":["a"],"GROUPS":["q"]}}`,
		h + `sourceIPs":["1.2.3.4"],"sourceIPs":[null,"5"]}`,
		h + `sourceIPs":["1.2.3.4"],"sourceIPs":[null]}`,
		h + `sourceIPs":["1.2.3.4","x"]}`,
		h + `responseStatus":{"metadata":{},"code":200},"responseStatus":{"message":"m"}}`,
		h + `responseStatus":{"message":"m","code":1},"responseStatus":{"metadata":{},"code":403}}`,
		h + `responseStatus":{"metadata":{},"code":099}}`,
		h + `responseStatus":{"metadata":{},"code":2e2}}`,
		h + `responseStatus":{"metadata":{},"code":-0}}`,
		h + `responseStatus":{"metadata":{},"Code":200}}`,
		h + `annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/decision":"forbid"}}`,
		h + `annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"x"},"annotations":null}`,
		h + `objectRef":{"resource":"pods","Resource":"x","resource":"y"}}`,
		h + `kind":"EventList","items":[]}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","kind":"Other"}`,
		`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","apiVersion":"audit.k8s.io/v1","user":{"username":"u","groups":["g"]}}]}`,
		h + `user":{"username":"bob","extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=ab"]}}}`,
		h + `user":{"username":"bob","extra":{"authentication.kubernetes.io/credential-id":["X\u0001"]}}}`,
		h + `user":{"username":"bob","extra":{"authentication.kubernetes.io/credential-id":["a\x01"]}}}`,
		h + `user":{"username":"bob","extra":{"authentication.kubernetes.io/credential-id":["a"],}}}`,
		h + `requestObject":{"a":[1,2.5,-0,1e5,{"b":"\u00e9\ud800"},true,false,null]}}`,
		h + `requestObject":{"a":[01]}}`,
		h + `requestObject":{"a":"\x80\xff"}}`,
		h + `stageTimestamp":"2024-02-30T00:00:00.000000Z","requestReceivedTimestamp":"2024-02-29T23:59:59.000000Z"}`,
		h + `stageTimestamp":"2023-02-29T00:00:00.000000Z"}`,
		h + `stageTimestamp":"2024-02-29T00:00:00.000000Z"}`,
		h + `stage":"ResponseComplete","level":"RequestResponse","verb":"get","stageTimestamp":"2024-02-29T00:00:00.000000Z"}`,
	}
	for _, d := range docs {
		sameAsStd(t, []byte(d))
	}
}

// TestSkipDepthMatchesStd: skipped values nested around skipFast's limit
// (64) and maxDepth.
func TestSkipDepthMatchesStd(t *testing.T) {
	const h = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","`
	for _, n := range []int{63, 64, 65, 70, 9997, 9998, 9999, 10000} {
		for _, open := range []string{"[", `{"a":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			doc := h + `requestObject":` + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "}"
			sameAsStd(t, []byte(doc))
		}
	}
}
