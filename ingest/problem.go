package ingest

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/kaudit/kaudit/termsafe"
)

// ProblemKind says what was wrong with a piece of input.
type ProblemKind uint8

// Problem kinds. Every kind but Unreadable-before-any-byte leaves the rest of
// the input (and every good event) flowing.
const (
	Malformed    ProblemKind = iota // a line or document that is not valid JSON
	TooLong                         // a line or document longer than MaxLine; skipped
	Unrecognised                    // valid JSON that is not an audit Event or EventList
	BadUTF8                         // invalid UTF-8 in an event; the event is kept
	Truncated                       // a gzip stream that ends early; events before it are kept
	Unreadable                      // a missing path, or a read that failed (Line says where)
	Empty                           // a file with no bytes
	Binary                          // a file that is not text; skipped
	NoAuditFiles                    // a directory without audit*.log* files
	Rejected                        // a webhook request refused (credentials, busy, stopping)
	Invalid                         // an event with a bad time, no auditID or stage, or a bad code; the event is kept
	Skipped                         // expected noise in a cloud export (klog lines, other services' entries); counted, not an error

	// NumProblemKinds is the number of kinds; Summary.Problems is indexed by kind.
	NumProblemKinds = iota
)

var kindNames = [NumProblemKinds]string{"malformed", "too long", "unrecognised", "invalid UTF-8", "truncated", "unreadable", "empty", "binary", "no audit files", "rejected", "invalid field", "skipped"}

// String names the kind as the summary line does ("malformed", "too long", ...).
func (k ProblemKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "problem " + strconv.Itoa(int(k))
}

// Problem is one piece of bad input: where it is and why it was skipped (or,
// for BadUTF8, why the event kept is suspicious).
type Problem struct {
	Path string // as given, or as found in a directory; StdinPath for "-"
	Line int64  // 1-based line (first line of a document); 0 when about the whole path
	Kind ProblemKind
	Msg  string // why, e.g. Decode's error message
	Lost int64  // events known to be lost with it (a deleted file a Tail's FileLog knows); 0: none or unknown
	// More is how many further problems of the same kind this record
	// stands for (a run of bad lines counted, not listed one by one).
	More int64

	through int64 // a summing record's last line, before the emitter adds the lines before its chunk (job.rel); 0 once handed on
}

// summingMsg is the message of a summing record (Problem.More) whose
// last line is through.
func summingMsg(p *Problem, through int64) string {
	return fmt.Sprintf("%d more %s lines through line %d, not listed one by one", p.More+1, p.Kind, through)
}

// Count is how many problems p stands for: 1 + More.
func (p Problem) Count() int { return 1 + int(p.More) }

// String formats the problem as "path:line: msg" ("path: msg" when Line is 0),
// the form editors and terminals turn into links.
func (p Problem) String() string {
	if p.Line > 0 {
		return p.Path + ":" + strconv.FormatInt(p.Line, 10) + ": " + p.Msg
	}
	return p.Path + ": " + p.Msg
}

// DefaultReportLimit is how many problems of one kind a Reporter prints per
// file before it only counts them.
const DefaultReportLimit = 10

// Reporter prints problems as warnings, one per line, to an io.Writer and
// counts them. It prints at most Limit problems per (file, kind) so that a
// file of garbage does not drown the terminal; the rest are counted and
// mentioned by Close ("... and N more").
//
// Goroutines: any; Report and Close may be called concurrently (a mutex
// guards the counts and the writer), so one Reporter can serve several
// sources. Report is typically Replay.OnProblem.
type Reporter struct {
	mu       sync.Mutex
	w        io.Writer
	limit    int
	counts   [NumProblemKinds]int
	perFile  map[reportKey]int
	files    map[string]struct{}
	order    []reportKey // first-seen order of (file, kind), for stable "... and N more" lines
	writeErr error
}

type reportKey struct {
	path string
	kind ProblemKind
}

// NewReporter returns a Reporter printing to w at most limit problems per
// (file, kind); limit <= 0 means DefaultReportLimit.
func NewReporter(w io.Writer, limit int) *Reporter {
	if limit <= 0 {
		limit = DefaultReportLimit
	}
	return &Reporter{w: w, limit: limit, perFile: map[reportKey]int{}, files: map[string]struct{}{}}
}

// Report counts p and prints it unless its (file, kind) already reached the limit.
func (r *Reporter) Report(p Problem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int(p.Kind) < NumProblemKinds {
		r.counts[p.Kind] += p.Count()
	}
	r.files[p.Path] = struct{}{}
	k := reportKey{p.Path, p.Kind}
	n := r.perFile[k]
	if n == 0 {
		r.order = append(r.order, k)
	}
	r.perFile[k] = n + p.Count()
	if n < r.limit {
		// Paths and messages carry client bytes (file names, object keys):
		// escaped so that they cannot drive the terminal.
		level := "warning"
		if p.Kind == Skipped {
			level = "note" // expected noise in a cloud export, not bad input
		}
		r.write("kaudit: " + level + ": " + termsafe.Printable(p.String()) + "\n")
	}
}

func (r *Reporter) write(s string) {
	if r.writeErr == nil {
		_, r.writeErr = io.WriteString(r.w, s)
	}
}

// Counts returns the number of problems reported, per kind.
func (r *Reporter) Counts() [NumProblemKinds]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Total is the number of problems reported.
func (r *Reporter) Total() int {
	c := r.Counts()
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Summary is the closing line, e.g. "kaudit: 3 problems in 2 files: 1
// malformed, 1 too long, 1 unrecognised"; "" when nothing was reported.
func (r *Reporter) Summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summary()
}

func (r *Reporter) summary() string {
	total := 0
	var parts []string
	for k, n := range r.counts {
		if n > 0 {
			total += n
			parts = append(parts, strconv.Itoa(n)+" "+ProblemKind(k).String())
		}
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("kaudit: %s in %s: %s", plural(total, "problem"), plural(len(r.files), "file"), strings.Join(parts, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Close prints one "... and N more" line for each (file, kind) that went
// over the limit, then the summary line (nothing when there were no
// problems). It returns the first error writing to w.
func (r *Reporter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// r.order is first-seen order, which is input order: the "... and N
	// more" lines come out in the same order as the warnings above them.
	for _, k := range r.order {
		if extra := r.perFile[k] - r.limit; extra > 0 {
			r.write(fmt.Sprintf("kaudit: warning: %s: ... and %d more %s\n", termsafe.Printable(k.path), extra, k.kind))
		}
	}
	if s := r.summary(); s != "" {
		r.write(s + "\n")
	}
	return r.writeErr
}
