package cloud

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func seed(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", glob))
	for _, p := range files {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || filepath.Ext(p) == ".golden" || filepath.Ext(p) == ".md" {
			continue
		}
		f.Add(readInput(f, p))
	}
	b, _ := os.ReadFile("testdata/bad-mixed.txt")
	f.Add(b)
}

// checkDecode holds Decode to its promises on any input: no panic, every
// record one line of JSON on a line that exists, Lines keeps the count.
func checkDecode(t *testing.T, data []byte) {
	res := Decode(data)
	lines := int64(bytes.Count(data, []byte{'\n'})) + 1
	for _, r := range res.Records {
		// Events are checked for shape, not validated in full: the
		// reader of the events does that.
		if len(r.Event) == 0 || r.Event[0] != '{' || bytes.IndexByte(r.Event, '\n') >= 0 {
			t.Fatalf("line %d: record is not one line of a JSON object: %q", r.Line, r.Event)
		}
		if r.Line < 1 || r.Line > lines {
			t.Fatalf("record on line %d of %d", r.Line, lines)
		}
	}
	for _, p := range res.Problems {
		if p.Line < 1 || p.Line > lines {
			t.Fatalf("problem on line %d of %d: %s", p.Line, lines, p.Msg)
		}
	}
	out := Lines(res, lines)
	if got := int64(bytes.Count(out, []byte{'\n'})); got != lines {
		t.Fatalf("Lines gave %d lines for %d", got, lines)
	}
}

func FuzzGKE(f *testing.F)        { seed(f, "gke-*"); f.Fuzz(checkDecode) }
func FuzzAKS(f *testing.F)        { seed(f, "aks-*"); f.Fuzz(checkDecode) }
func FuzzCloudWatch(f *testing.F) { seed(f, "cw-*"); f.Fuzz(checkDecode) }

// surrogateEscape finds \uD800-\uDFFF escapes: encoding/json decodes a
// lone one to U+FFFD, fastjson keeps its text; the fuzzer leaves them out.
var surrogateEscape = regexp.MustCompile(`(?i)\\u+d[89a-f]`)

// FuzzGKEReference holds the fast GKE decoder to the first one, built on
// encoding/json (gkeReference): for any one-line entry both accept, the
// same events, problems and clusters, byte for byte.
func FuzzGKEReference(f *testing.F) {
	for _, p := range []string{"testdata/gke-khi.jsonl", "testdata/gke-panther.jsonl", "testdata/mixed-elastic.jsonl"} {
		for _, line := range bytes.Split(readInput(f, p), []byte("\n")) {
			f.Add(line)
		}
	}
	for _, s := range []string{
		`{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","status":{"code":7.0}}}`,
		`{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","STATUS":{"code":7},"status":null}}`,
		`{"protoPayload":{"serviceName":"k8s.io"},"protoPayload":{"methodName":"io.k8s.a.b"},"labels":{"b":"<&>","a":null},"labels":{"c":"\u2028"}}`,
		`{"protoPayload":{"methodName":"io.k8s.x.list","resourceName":"apps/v1/namespaces/n/deployments/d/scale","authenticationInfo":{"principalSubject":"s"}},"operation":{"id":"i","first":true},"resource":{"labels":{"cluster_name":"c\xff"}},"timestamp":"t\xfe"}`,
		`{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","status":{"code":99,"message":"m"}},"ProtoPayload":null}`,
		`{"protoPayload":{"serviceName":1}}`,
		`{"protoPayload":{"ſerviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get"},"operation":{"first":"yes"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, entry []byte) {
		if bytes.IndexByte(entry, '\n') >= 0 || !json.Valid(entry) || surrogateEscape.Match(entry) {
			return
		}
		fast := render(Decode(entry))
		d := decoder{data: entry, line: 1, res: &Result{}, eof: true, bigLine: len(entry) + 1, gkeHook: (*decoder).gkeReference}
		d.run()
		if ref := render(d.res); fast != ref {
			t.Fatalf("fast and reference GKE decoders differ on %q:\nfast: %s\nref:  %s", entry, fast, ref)
		}
	})
}
