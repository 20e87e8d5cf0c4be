package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kaudit/kaudit/termsafe"
)

// Options shape the printed timeline.
type Options struct {
	Color     bool // ANSI colours on the diff (a terminal)
	ShowNoise bool // keep managedFields, resourceVersion and generation in diffs
	NoDiff    bool
}

// Diffs is each write's diff against the previous known revision: the
// last one with content, skipping unavailable ones (the label says which),
// and nothing after the object ended.
func Diffs(steps []Step, showNoise bool) []string {
	out := make([]string, len(steps))
	var prev *Revision
	for i, s := range steps {
		switch r := s.Revision; {
		case r != nil && r.Object != nil:
			from := "(none)"
			if prev != nil {
				from = label(prev)
			}
			var po map[string]any
			if prev != nil {
				po = prev.Object
			}
			out[i] = Diff(from, label(r), po, r.Object, showNoise)
			prev = r
		case s.Ends:
			prev = nil
		}
	}
	return out
}

// DiffAt is step i's diff as Diffs gives it, computed alone: the UI
// computes only the diffs it shows.
func DiffAt(steps []Step, i int, showNoise bool) string {
	r := steps[i].Revision
	if r == nil || r.Object == nil {
		return ""
	}
	for j := i - 1; j >= 0; j-- {
		switch p := steps[j].Revision; {
		case p != nil && p.Object != nil:
			return Diff(label(p), label(r), p.Object, r.Object, showNoise)
		case steps[j].Ends:
			j = 0
		}
	}
	return Diff("(none)", label(r), nil, r.Object, showNoise)
}

func label(r *Revision) string { return fmt.Sprintf("#%d %s", r.N, r.Quality) }

// WriteTable prints the timeline: one row per request, each write's diff
// under it, indented. Every line is made terminal-safe.
func WriteTable(w io.Writer, ref Ref, steps []Step, o Options) error {
	fmt.Fprintln(w, safe(Title(ref, steps)))
	diffs := Diffs(steps, o.ShowNoise)
	// Rows are aligned together first, then each write's diff goes under
	// its row.
	var rows bytes.Buffer
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tVERB\tCODE\tSTAGE\tUSER\tREVISION\tNOTE")
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(s.Time), safe(VerbOf(s)), code(s.Code),
			safe(s.Stage), safe(s.User), RevisionLabel(s), safe(s.Note))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(rows.String(), "\n"), "\n")
	bw := bufio.NewWriter(w)
	bw.WriteString(lines[0] + "\n")
	for i, l := range lines[1:] {
		bw.WriteString(strings.TrimRight(l, " ") + "\n")
		if o.NoDiff || diffs[i] == "" {
			continue
		}
		for _, d := range strings.Split(diffs[i], "\n") {
			bw.WriteString("    " + paint(safe(d), o.Color) + "\n")
		}
	}
	return bw.Flush()
}

// jsonStep is a step as -o json/jsonl print it.
type jsonStep struct {
	Object string `json:"object"`
	Step
	Diff string `json:"diff,omitempty"`
}

// WriteJSON prints the timeline as one JSON array (lines=false) or one
// step per line. Bodies are redacted before Rebuild; what encoding/json
// leaves raw (bidi overrides, C1 controls) termsafe.JSON escapes.
func WriteJSON(w io.Writer, ref Ref, steps []Step, o Options, lines bool) error {
	diffs := Diffs(steps, o.ShowNoise)
	all := make([]jsonStep, len(steps))
	for i, s := range steps {
		all[i] = jsonStep{Object: ref.String(), Step: s}
		if !o.NoDiff {
			all[i].Diff = diffs[i]
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if !lines {
		if err := enc.Encode(all); err != nil {
			return err
		}
	}
	for _, s := range all {
		if !lines {
			break
		}
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	_, err := w.Write(termsafe.JSON(b.Bytes()))
	return err
}

// Title is the timeline's first line: "pods/ns/x: 12 requests, 3 revisions".
func Title(ref Ref, steps []Step) string {
	return fmt.Sprintf("%s: %d requests, %d revisions", ref, len(steps), revisions(steps))
}

func revisions(steps []Step) int {
	n := 0
	for _, s := range steps {
		if s.Revision != nil {
			n++
		}
	}
	return n
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// VerbOf is the step's verb with its subresource: "update status".
func VerbOf(s Step) string {
	if s.Subresource != "" {
		return s.Verb + " " + s.Subresource
	}
	return s.Verb
}

func code(c int32) string {
	if c == 0 {
		return "-"
	}
	return fmt.Sprint(c)
}

// RevisionLabel is the REVISION cell: "#3 approximate", "(gone)" or "".
func RevisionLabel(s Step) string {
	switch {
	case s.Revision != nil:
		return fmt.Sprintf("#%d %s", s.Revision.N, s.Revision.Quality)
	case s.Ends:
		return "(gone)"
	case s.MaybeEnds:
		return "unavailable (maybe gone)"
	}
	return ""
}

func safe(s string) string { return termsafe.Printable(s) }

func paint(l string, color bool) string {
	if !color {
		return l
	}
	switch {
	case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		return "\x1b[1m" + l + "\x1b[0m"
	case strings.HasPrefix(l, "+"):
		return "\x1b[32m" + l + "\x1b[0m"
	case strings.HasPrefix(l, "-"):
		return "\x1b[31m" + l + "\x1b[0m"
	case strings.HasPrefix(l, "@@"):
		return "\x1b[36m" + l + "\x1b[0m"
	}
	return l
}
