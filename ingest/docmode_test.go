package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../testdata/public/"

// TestDocModeFixtures reads the pretty-printed fixtures, BOM and all.
func TestDocModeFixtures(t *testing.T) {
	tests := []struct {
		file      string
		wantIDs   []string
		wantProbs []string
	}{
		{"kbx-openshift-single-event-pretty.json", []string{"532b1164-8b26-4b49-95f2-907424a80cac"}, nil},
		{"sysdig-aks-requestresponse-event-bom-pretty.json", nil, nil}, // ids filled below
		{"k8sdocs-webhook-eventlist-v1alpha1.json", []string{"4faf711a-9094-400f-a876-d9188ceda548"}, nil},
		{"sysdig-aks-diagnostic-record-bom-pretty.json", []string{"4e2a4193-cb3d-4ff7-bf37-32c392fbc23b"}, nil}, // an AKS record: its event is taken out (ingest/cloud)
		{"falco-malformed-kind0.json", nil, []string{"falco-malformed-kind0.json:1 unrecognised"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(fixtures + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantIDs
			if strings.Contains(tt.file, "requestresponse") {
				want = []string{auditIDOf(t, bytes.TrimPrefix(data, bom))}
			}
			for _, chunk := range []int{7, 100, 0} {
				res := run(t, &Replay{Paths: []string{fixtures + tt.file}, chunk: chunk})
				if res.err != nil {
					t.Fatal(res.err)
				}
				if got := res.ids(); !eq(got, want) {
					t.Errorf("chunk %d: events %q, want %q", chunk, got, want)
				}
				if got := res.probs(); !eq(got, tt.wantProbs) {
					t.Errorf("chunk %d: problems %q, want %q", chunk, got, tt.wantProbs)
				}
				if n := int64(bytes.Count(data, []byte{'\n'})); res.sum.Lines < n || res.sum.Lines > n+1 {
					t.Errorf("chunk %d: %d lines, want %d", chunk, res.sum.Lines, n)
				}
			}
		})
	}
}

func auditIDOf(t *testing.T, doc []byte) string {
	var v struct{ AuditID string }
	if err := json.Unmarshal(doc, &v); err != nil || v.AuditID == "" {
		t.Fatalf("fixture has no auditID: %v", err)
	}
	return v.AuditID
}

func pretty(t testing.TB, line string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(line), "", "  "); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDocModeSplit: several documents, a top-level array, strings holding
// braces and escaped quotes, bad documents in between, each problem at
// the first line of its document.
func TestDocModeSplit(t *testing.T) {
	tricky := strings.Replace(ev("t"), `"alice"`, `"a}l]i{c\"e\\"`, 1)
	p1, p2, p3 := pretty(t, ev("1")), pretty(t, tricky), pretty(t, ev("3"))
	n1, n2 := strings.Count(p1, "\n")+1, strings.Count(p2, "\n")+1
	tests := []struct {
		name      string
		data      string
		maxLine   int
		wantIDs   []string
		wantProbs []string
	}{
		{
			name:    "concatenated documents",
			data:    p1 + "\n" + p2 + "\n\n" + p3 + "\n",
			wantIDs: []string{"1", "t", "3"},
		},
		{
			name:    "BOM, CRLF, no final newline",
			data:    "\xef\xbb\xbf" + strings.ReplaceAll(p1+"\n"+p3, "\n", "\r\n"),
			wantIDs: []string{"1", "3"},
		},
		{
			name:    "top-level array",
			data:    "[\n" + p1 + ",\n" + p2 + ",\n" + p3 + "\n]\n",
			wantIDs: []string{"1", "t", "3"},
		},
		{
			name:      "bad documents in between",
			data:      p1 + "\n{\n  \"kind\": 0\n}\n" + p2 + "\nnonsense\n" + p3 + "\n",
			wantIDs:   []string{"1", "t", "3"},
			wantProbs: []string{fmt.Sprintf("%d unrecognised", n1+1), fmt.Sprintf("%d malformed", n1+4+n2)},
		},
		{
			name:      "unterminated last document",
			data:      p1 + "\n" + p2[:len(p2)/2],
			wantIDs:   []string{"1"},
			wantProbs: []string{fmt.Sprintf("%d malformed", n1+1)},
		},
		{
			name:      "document longer than MaxLine",
			data:      p1 + "\n" + pretty(t, `{"x":"`+strings.Repeat("z", 5000)+`"}`) + "\n" + p3 + "\n",
			maxLine:   2000,
			wantIDs:   []string{"1", "3"},
			wantProbs: []string{fmt.Sprintf("%d too long", n1+1)},
		},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 5, 64, 1000, 0} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, chunk), func(t *testing.T) {
				dir := t.TempDir()
				plain := writeFile(t, dir, "a.json", tt.data)
				gzipped := writeFile(t, dir, "b.json.gz", gz(t, tt.data))
				for _, p := range []string{plain, gzipped} {
					res := run(t, &Replay{Paths: []string{p}, chunk: chunk, MaxLine: tt.maxLine, Workers: 3})
					if got := res.ids(); !eq(got, tt.wantIDs) {
						t.Errorf("%s: events %q, want %q", filepath.Base(p), got, tt.wantIDs)
					}
					var probs []string
					for _, p := range res.problems {
						probs = append(probs, fmt.Sprintf("%d %s", p.Line, p.Kind))
					}
					if !eq(probs, tt.wantProbs) {
						t.Errorf("%s: problems %q, want %q", filepath.Base(p), probs, tt.wantProbs)
					}
					if res.sum.Bytes != int64(len(tt.data)) {
						t.Errorf("%s: %d bytes, want %d", filepath.Base(p), res.sum.Bytes, len(tt.data))
					}
				}
			})
		}
	}
}

// TestDocModeDetection: only a first line that is exactly "{" or "["
// switches to document mode.
func TestDocModeDetection(t *testing.T) {
	for _, tt := range []struct {
		in   string
		eof  bool
		want bool
	}{
		{"{\n", false, true},
		{"\n  \r\n[ \r\n", false, true},
		{"{", true, true},
		{"{", false, false}, // the first line may go on
		{`{"kind":"Event"}` + "\n", false, false},
		{"{ \"a\": 1 }\n", false, false},
		{"", true, false},
		{"   \n\n", true, false},
	} {
		if got := docMode([]byte(tt.in), tt.eof); got != tt.want {
			t.Errorf("docMode(%q, %v) = %v", tt.in, tt.eof, got)
		}
	}
}
