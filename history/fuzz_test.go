package history

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var fuzzVerbs = []string{"create", "update", "patch", "delete", "deletecollection", "get"}
var fuzzSubs = []string{"", "status", "scale", "eviction", "exec"}

// FuzzRebuild feeds arbitrary bodies through Rebuild: it must not panic,
// and a revision is exact only when it is the server's response object
// itself, never something built from a request body or a patch.
func FuzzRebuild(f *testing.F) {
	f.Add([]byte(`{"kind":"Deployment","spec":{"replicas":1}}`), []byte(`{"spec":{"replicas":2}}`), []byte{0, 2, 1, 2})
	f.Add([]byte(`{"kind":"ConfigMap","data":{"a":"1"}}`), []byte(`[{"op":"add","path":"/data/b","value":"2"}]`), []byte{1, 2, 9, 7})
	f.Add([]byte(`{"kind":"Scale","spec":{"replicas":3}}`), []byte(`{"$patch":"replace"}`), []byte{2, 3, 2, 2})
	f.Add([]byte(`{"metadata":{"finalizers":["x"]}}`), []byte(`[{"op":"move","from":"/a","path":"/a/b"}]`), []byte{3, 4, 8, 1})
	f.Fuzz(func(t *testing.T, a, b, script []byte) {
		bodies := [][]byte{nil, a, b}
		var reqs []Request
		for i := 0; i+3 < len(script) && len(reqs) < 16; i += 4 {
			r := Request{
				Verb:        fuzzVerbs[int(script[i])%len(fuzzVerbs)],
				Subresource: fuzzSubs[int(script[i+1])%len(fuzzSubs)],
				Code:        []int32{200, 201, 403, 0}[script[i+2]%4],
				Group:       []string{"", "apps", "example.com"}[script[i+2]/4%3],
				Resource:    []string{"configmaps", "deployments", "widgets"}[script[i+2]/12%3],
			}
			r.RequestObject = bodies[script[i+3]%3]
			r.ResponseObject = bodies[script[i+3]/3%3]
			switch {
			case script[i+3]&0x80 != 0:
				r.URI = "/api?dryRun=All"
			case script[i+3]&0x40 != 0: // a server-side apply
				r.URI = "/api?fieldManager=f&force=true"
			}
			reqs = append(reqs, r)
		}
		steps := Rebuild(Ref{Resource: "configmaps", Name: "x"}, reqs)
		if len(steps) != len(reqs) {
			t.Fatalf("%d steps for %d requests", len(steps), len(reqs))
		}
		for i, s := range steps {
			rev := s.Revision
			if rev == nil {
				continue
			}
			if (rev.Quality == Unavailable) != (rev.Object == nil) {
				t.Fatalf("step %d: %s revision with object %v", i, rev.Quality, rev.Object)
			}
			if rev.Quality == Exact {
				resp := object(reqs[i].ResponseObject)
				if resp == nil || !reflect.DeepEqual(resp, rev.Object) {
					t.Fatalf("step %d labelled exact but is not the response %q", i, reqs[i].ResponseObject)
				}
			}
			_ = Diff("a", "b", nil, rev.Object, false)
			if s.DryRun || bytes.Contains([]byte(s.URI), []byte("dryRun")) {
				t.Fatalf("step %d: a dry run made revision %d", i, rev.N)
			}
		}
	})
}

// FuzzRequestURI: the URI scanner never panics, and on an event that is
// a JSON object it agrees with encoding/json when it finds the field.
func FuzzRequestURI(f *testing.F) {
	f.Add([]byte(`{"requestURI":"/api/v1/x?dryRun=All"}`))
	f.Add([]byte(`{"requestURI":"/a\u0026b\"c\\"}`))
	f.Add([]byte(`{"requestURI":"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := requestURI(raw)
		var ev struct {
			RequestURI *string `json:"requestURI"`
		}
		if got != "" && json.Unmarshal(raw, &ev) == nil && ev.RequestURI != nil && *ev.RequestURI != got && bytes.Count(raw, []byte("questURI")) == 1 {
			t.Fatalf("requestURI = %q, encoding/json %q", got, *ev.RequestURI)
		}
	})
}
