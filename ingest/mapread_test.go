package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestMappedSameAsRead: a filtered replay of plain files mapped hands on
// the same events and stubs, problems and counts as one reading them:
// chunks smaller and larger than a page, a line longer than a chunk (the
// rest of the file is read), a BOM, a last line without a newline, a file
// smaller than the first buffer, with and without Recycle.
func TestMappedSameAsRead(t *testing.T) {
	if !canMap {
		t.Skip("files are not mapped on this system")
	}
	skim := func(doc []byte) (time.Time, bool) {
		if strings.Contains(string(doc), "keep") {
			return time.Time{}, false
		}
		return audit.Skim(doc)
	}
	var ls []string
	for i := range 400 {
		id := fmt.Sprintf("e%d", i)
		switch {
		case i%7 == 0:
			id += "-keep"
		case i == 150:
			ls = append(ls, evAt("long-"+strings.Repeat("x", 9000), i))
		case i%50 == 3:
			ls = append(ls, "{not json")
		}
		ls = append(ls, evAt(id, i))
	}
	dir := t.TempDir()
	paths := []string{
		writeFile(t, dir, "a.log", "\ufeff"+lines(ls...)),
		writeFile(t, dir, "b.log", strings.TrimSuffix(lines(ls[:120]...), "\n")),
		writeFile(t, dir, "small.log", lines(ls[:3]...)),
	}
	for _, chunk := range []int{300, 4096, 1 << 20} {
		for _, recycle := range []bool{false, true} {
			for _, path := range paths {
				t.Run(fmt.Sprintf("%s chunk %d recycle %v", filepath.Base(path), chunk, recycle), func(t *testing.T) {
					content, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					run := func(mapped bool) string {
						mapReads = mapped
						defer func() { mapReads = canMap }()
						var out, problems []string // where problems fall among batches depends on the chunks
						r := &Replay{Paths: []string{path}, Window: -1, chunk: chunk, Recycle: recycle, Skim: skim,
							OnProblem: func(p Problem) { problems = append(problems, fmt.Sprintf("problem %d %s %s", p.Line, p.Kind, p.Msg)) }}
						sum, err := r.Run(context.Background(), func(b Batch) error {
							checkRaw(t, []Batch{b})
							checkPos(t, content, b.Pos)
							k := 0
							for i := 0; i <= len(b.Events); i++ {
								for ; k < len(b.Stubs) && int(b.Stubs[k].After) == i; k++ {
									out = append(out, fmt.Sprint("stub ", b.Stubs[k].Time))
								}
								if i < len(b.Events) {
									out = append(out, strings.Clone(b.Events[i].AuditID)+" "+b.Events[i].StageTime.String())
								}
							}
							return nil
						})
						return fmt.Sprintf("%s\n%s\n%+v %v", strings.Join(out, "\n"), strings.Join(problems, "\n"), sum, err)
					}
					read, mapped := run(false), run(true)
					if mapped != read {
						m, r := strings.Split(mapped, "\n"), strings.Split(read, "\n")
						i := 0
						for i < min(len(m), len(r)) && m[i] == r[i] {
							i++
						}
						t.Errorf("mapped and read differ at line %d of %d/%d:\nmapped %q\nread   %q", i, len(m), len(r), m[max(0, i-2):min(len(m), i+3)], r[max(0, i-2):min(len(r), i+3)])
					}
					if !strings.Contains(read, "stub") || !strings.Contains(read, "keep") || path == paths[0] && !strings.Contains(read, "problem") {
						t.Errorf("nothing stubbed, kept or reported:\n%s", read)
					}
				})
			}
		}
	}
}

// checkPos asserts that pos is the end of a line of content (after its
// newline, or the end) and counts the lines before it.
func checkPos(t *testing.T, content []byte, pos Position) {
	t.Helper()
	n := int64(strings.Count(string(content[:pos.Offset]), "\n"))
	if pos.Offset == int64(len(content)) && len(content) > 0 && content[len(content)-1] != '\n' {
		n++
	}
	if pos.Offset > int64(len(content)) || pos.Offset > 0 && pos.Offset < int64(len(content)) && content[pos.Offset-1] != '\n' || pos.Line != n {
		t.Errorf("batch ends at offset %d, line %d: not a line's end, or %d lines before it", pos.Offset, pos.Line, n)
	}
}

// TestMappedShrinks: a file cut short under a mapped chunk faults; the
// worker reports it (Truncated) instead of crashing, and hands on nothing
// of the chunk.
func TestMappedShrinks(t *testing.T) {
	if !canMap {
		t.Skip("files are not mapped on this system")
	}
	path := writeFile(t, t.TempDir(), "audit.log", timed("a@1", "b@2", "c@3"))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	mem, err := mapFile(f, 0, int(fi.Size()))
	if err != nil {
		t.Fatal(err)
	}
	win := &mapWindow{mem: mem}
	win.refs.Store(1)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	j := &job{src: &source{path: path}, buf: mem, mapped: win, line: 0, done: make(chan struct{})}
	w := worker{maxLine: DefaultMaxLine, skim: audit.Skim}
	w.decodeMapped(j)
	if len(j.batches) != 0 || len(j.problems) != 1 || j.problems[0].Kind != Truncated || j.problems[0].Line != 1 {
		t.Errorf("batches %d, problems %+v; want none and one Truncated at line 1", len(j.batches), j.problems)
	}
}
