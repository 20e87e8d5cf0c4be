package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// TestBadInput covers the "Bad input" list: every good event comes
// out, in order, and every problem is reported once, with its line.
func TestBadInput(t *testing.T) {
	huge := `{"kind":"Event","x":"` + strings.Repeat("a", 20<<20) + `"}` // 20 MiB
	tests := []struct {
		name      string
		files     map[string]string // name -> content, written to a temp dir
		paths     []string          // relative to the temp dir; "-" for stdin
		stdin     io.Reader
		maxLine   int
		chunk     int
		wantIDs   []string
		wantProbs []string
		wantErr   error
		loose     bool // compare problems' places, not kinds (Decode decides those)
	}{
		{
			name:      "malformed lines between good ones",
			files:     map[string]string{"a.log": lines(ev("1"), `{"kind":"Event",`, ev("2"), `not json at all`, `}`, ev("3"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2", "3"},
			wantProbs: []string{"a.log:2 malformed", "a.log:4 malformed", "a.log:5 malformed"},
		},
		{
			name:      "20 MiB line with the default MaxLine",
			files:     map[string]string{"a.log": lines(ev("1"), huge, ev("2"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"a.log:2 too long"},
		},
		{
			name:      "line longer than a small MaxLine, straddling chunks",
			files:     map[string]string{"a.log": lines(ev("1"), `{"x":"`+strings.Repeat("b", 10000)+`"}`, ev("2"), `{"x":"`+strings.Repeat("c", 3000)+`"}`, ev("3"))},
			paths:     []string{"a.log"},
			maxLine:   2048,
			chunk:     512,
			wantIDs:   []string{"1", "2", "3"},
			wantProbs: []string{"a.log:2 too long", "a.log:4 too long"},
		},
		{
			name:      "line longer than MaxLine inside one chunk",
			files:     map[string]string{"a.log": lines(ev("1"), `{"x":"`+strings.Repeat("b", 3000)+`"}`, ev("2"))},
			paths:     []string{"a.log"},
			maxLine:   2048,
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"a.log:2 too long"},
		},
		{
			name:      "too long last line without newline",
			files:     map[string]string{"a.log": lines(ev("1")) + `{"x":"` + strings.Repeat("b", 5000)},
			paths:     []string{"a.log"},
			maxLine:   2048,
			chunk:     256,
			wantIDs:   []string{"1"},
			wantProbs: []string{"a.log:2 too long"},
		},
		{
			name:      "invalid UTF-8 keeps the event",
			files:     map[string]string{"a.log": lines(ev("1"), strings.Replace(ev("2"), "alice", "ali\xffce", 1), ev("3"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2", "3"},
			wantProbs: []string{"a.log:2 invalid UTF-8"},
		},
		{
			name:      "empty file",
			files:     map[string]string{"empty.log": "", "a.log": lines(ev("1"))},
			paths:     []string{"empty.log", "a.log"},
			wantIDs:   []string{"1"},
			wantProbs: []string{"empty.log:0 empty"},
		},
		{
			name:      "only an empty file is still input",
			files:     map[string]string{"empty.log": ""},
			paths:     []string{"empty.log"},
			wantProbs: []string{"empty.log:0 empty"},
		},
		{
			name:      "missing path among good ones",
			files:     map[string]string{"a.log": lines(ev("1")), "b.log": lines(ev("2"))},
			paths:     []string{"a.log", "missing.log", "b.log"},
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"missing.log:0 unreadable"},
		},
		{
			name:      "only a missing path",
			paths:     []string{"missing.log"},
			wantProbs: []string{"missing.log:0 unreadable"},
			wantErr:   ErrNoInput,
		},
		{
			name:      "directory with no audit files",
			files:     map[string]string{"d/notes.txt": "hello\n", "d/kube-apiserver.log": "I0109 12:00:00.000000       1 main.go:42] starting\n", "d/policy.yaml": lines(ev("x"))},
			paths:     []string{"d"},
			wantProbs: []string{"kube-apiserver.log:0 skipped", "notes.txt:0 skipped"},
			wantErr:   ErrNoInput,
		},
		{
			name:      "directory with neither audit logs nor exports",
			files:     map[string]string{"d/policy.yaml": lines(ev("x")), "d/.hidden.json": lines(ev("y"))},
			paths:     []string{"d"},
			wantProbs: []string{"d:0 no audit files"},
			wantErr:   ErrNoInput,
		},
		{
			name:      "binary file",
			files:     map[string]string{"bin.log": "\x7fELF\x02\x01\x01\x00\x00\x00" + strings.Repeat("\x00\x01", 100) + "\n" + ev("no"), "a.log": lines(ev("1"))},
			paths:     []string{"bin.log", "a.log"},
			wantIDs:   []string{"1"},
			wantProbs: []string{"bin.log:0 binary"},
		},
		{
			name:      "JSON with a stray NUL is not binary",
			files:     map[string]string{"a.log": lines(ev("1"), "{\x00}", ev("2"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"a.log:2 malformed"},
		},
		{
			name:    "BOM",
			files:   map[string]string{"a.log": "\xef\xbb\xbf" + lines(ev("1"), ev("2"))},
			paths:   []string{"a.log"},
			wantIDs: []string{"1", "2"},
		},
		{
			name:      "only a BOM",
			files:     map[string]string{"a.log": "\xef\xbb\xbf"},
			paths:     []string{"a.log"},
			wantProbs: []string{"a.log:0 empty"},
		},
		{
			name:      "unrecognised shapes",
			files:     map[string]string{"a.log": lines(ev("1"), `{"kind": 0}`, `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}`, `{"protoPayload":{}}`, `[1,2]`, ev("2"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"a.log:2 unrecognised", "a.log:3 unrecognised", "a.log:4 unrecognised", "a.log:5 unrecognised"},
		},
		{
			name:      "EventList with a bad item keeps the good ones",
			files:     map[string]string{"a.log": lines(ev("1"), strings.Replace(evList("2", "3", "4"), `"verb":"get"`, `"verb":7`, 1), ev("5"))},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "3", "4", "5"},
			wantProbs: []string{"a.log:2"},
			loose:     true,
		},
		{
			name:      "blank lines, CRLF and a last line without newline",
			files:     map[string]string{"a.log": "\n" + ev("1") + "\r\n   \r\n\t\n" + ev("2") + "\r\n" + "bad\r\n" + ev("3")},
			paths:     []string{"a.log"},
			wantIDs:   []string{"1", "2", "3"},
			wantProbs: []string{"a.log:6 malformed"},
		},
		{
			name:      "stdin failing mid-read",
			paths:     []string{"-"},
			stdin:     io.MultiReader(strings.NewReader(lines(ev("1"), ev("2"))+`{"kind":"Ev`), iotest.ErrReader(errors.New("device gone"))),
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"<stdin>:3 unreadable"},
		},
		{
			name:      "gzip stdin",
			paths:     []string{"-"},
			stdin:     strings.NewReader(gz(t, lines(ev("1"), "oops", ev("2")))),
			wantIDs:   []string{"1", "2"},
			wantProbs: []string{"<stdin>:2 malformed"},
		},
		{
			name:    "gzip named .log, plain named .gz",
			files:   map[string]string{"a.log": gz(t, lines(ev("1"))), "b.gz": lines(ev("2"))},
			paths:   []string{"a.log", "b.gz"},
			wantIDs: []string{"1", "2"},
		},
		{
			name:      "not really gzip",
			files:     map[string]string{"a.log.gz": "\x1f\x8bgarbage that is not gzip", "b.log": lines(ev("1"))},
			paths:     []string{"a.log.gz", "b.log"},
			wantIDs:   []string{"1"},
			wantProbs: []string{"a.log.gz:0 unreadable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			var paths []string
			for _, p := range tt.paths {
				if p != "-" {
					p = filepath.Join(dir, p)
				}
				paths = append(paths, p)
			}
			res := run(t, &Replay{Paths: paths, Stdin: tt.stdin, MaxLine: tt.maxLine, chunk: tt.chunk, Workers: 2})
			if !errors.Is(res.err, tt.wantErr) || (tt.wantErr == nil && res.err != nil) {
				t.Errorf("err = %v, want %v", res.err, tt.wantErr)
			}
			if got := res.ids(); !eq(got, tt.wantIDs) {
				t.Errorf("events = %q, want %q", got, tt.wantIDs)
			}
			got := res.probs()
			if tt.loose {
				for i := range got {
					got[i], _, _ = strings.Cut(got[i], " ")
				}
			}
			if !eq(got, tt.wantProbs) {
				t.Errorf("problems = %q, want %q", got, tt.wantProbs)
			}
			for _, p := range res.problems {
				if p.Msg == "" || !strings.HasPrefix(p.String(), p.Path+":") {
					t.Errorf("problem %q: no message or bad form", p)
				}
			}
			n := 0
			for _, c := range res.sum.Problems {
				n += c
			}
			if n != len(res.problems) || res.sum.Events != int64(len(res.ids())) {
				t.Errorf("summary %+v does not match %d problems, %d events", res.sum, len(res.problems), len(res.ids()))
			}
		})
	}
}

// TestTruncatedGzip cuts a .gz file at many points: the events before the
// break come out, and the break is reported at the line after them.
func TestTruncatedGzip(t *testing.T) {
	ids := seq("e", 400)
	var ls []string
	for _, id := range ids {
		ls = append(ls, ev(id))
	}
	full := gz(t, lines(ls...))
	dir := t.TempDir()
	for _, cut := range []int{20, len(full) / 3, len(full) / 2, len(full) - 9, len(full) - 1} {
		p := writeFile(t, dir, "audit.log.gz", full[:cut])
		res := run(t, &Replay{Paths: []string{p}, chunk: 4096})
		got := res.ids()
		if !eq(got, ids[:len(got)]) {
			t.Fatalf("cut %d: events are not a prefix: %q", cut, got)
		}
		if len(res.problems) != 1 || res.problems[0].Kind != Truncated {
			t.Fatalf("cut %d: problems = %v, want one truncated", cut, res.problems)
		}
		if cut >= len(full)-9 {
			if len(got) != len(ids) { // only the trailer is missing
				t.Errorf("cut %d: %d events, want all %d", cut, len(got), len(ids))
			}
			continue
		}
		if cut > 100 && len(got) == 0 {
			t.Errorf("cut %d: no events kept", cut)
		}
		if want := int64(len(got) + 1); res.problems[0].Line != want && cut > 20 {
			t.Errorf("cut %d: truncation reported at line %d, want %d", cut, res.problems[0].Line, want)
		}
	}
}

// TestVanishedFile: a file that disappears between listing and opening.
func TestVanishedFile(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "audit.log", lines(ev("1")))
	files, probs := ExpandPaths([]string{dir})
	if len(files) != 1 || len(probs) != 0 {
		t.Fatalf("ExpandPaths = %v, %v", files, probs)
	}
	os.Remove(p)
	res := run(t, &Replay{Paths: files})
	if got := res.probs(); !eq(got, []string{"audit.log:0 unreadable"}) || !errors.Is(res.err, ErrNoInput) {
		t.Errorf("problems %q, err %v", got, res.err)
	}
}

// TestUnreadableFirstRead: a path that opens but cannot be read (a
// directory given through a symlink-free path still expands, so use a FIFO
// replaced by a failing stdin instead) counts as no input.
func TestUnreadableFirstRead(t *testing.T) {
	res := run(t, &Replay{Paths: []string{"-"}, Stdin: iotest.ErrReader(errors.New("EIO"))})
	if !errors.Is(res.err, ErrNoInput) || !eq(res.probs(), []string{"<stdin>:0 unreadable"}) {
		t.Errorf("err %v, problems %q", res.err, res.probs())
	}
	if !bytes.Contains([]byte(res.problems[0].Msg), []byte("EIO")) {
		t.Errorf("message %q does not say why", res.problems[0].Msg)
	}
}

func TestLegacyTextFormatIsNamed(t *testing.T) {
	for _, f := range []string{"k8sdocs-legacy-2016.log", "k8sdocs-legacy-2017-03.log", "k8sdocs-legacy-staged-2017-06.log"} {
		var probs []Problem
		r := &Replay{Paths: []string{"../testdata/public/" + f}, OnProblem: func(p Problem) { probs = append(probs, p) }}
		if _, err := r.Run(context.Background(), func(Batch) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if len(probs) != 2 {
			t.Fatalf("%s: %d problems, want one per line (2): %v", f, len(probs), probs)
		}
		for _, p := range probs {
			if p.Kind != Unrecognised || !strings.Contains(p.Msg, "legacy text audit format") {
				t.Errorf("%s: %v (%v), want the legacy format named", f, p, p.Kind)
			}
		}
	}
}
