package query

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// Filter is a compiled filter (the filter language: README, "Filters"): quick terms or a jq program,
// planned into postings operations, column scans and, for what is left, a
// gojq program run only on the events that remain.
//
// A Filter is immutable: any number of goroutines may call Eval at once.
type Filter struct {
	text  string
	jq    bool
	root  node // nil keeps every event
	full  *gojq.Code
	rng   timeRange // the since:/until: terms and Between's bounds
	terms []term    // quick terms as parsed (Terms)
	lits  []lit     // jq: literals the bytes of every kept event contain
}

// Compile compiles a filter. The text is a jq program when it starts like
// one (".", "(", "[", "{", a string, a variable, a number, select(…), not,
// if, …) or when it is not quick terms but parses as jq; otherwise it is
// quick terms. Blank text keeps every event. Errors are *SyntaxError.
//
// See terms.go for quick terms and jq_plan.go for how jq is planned.
func Compile(text string) (*Filter, error) {
	if strings.TrimSpace(text) == "" {
		return &Filter{text: text}, nil
	}
	if looksLikeJQ(text) {
		return compileJQ(text)
	}
	p, err := compileTerms(text)
	if err == nil && p.text {
		// Free text reads most jq too ("latency > 1", "denied and
		// longrunning"): a valid jq program wins; an unknown word such
		// as "orphan" is not one.
		if _, jqErr := gojq.Parse(text); jqErr == nil {
			if f, jqErr := compileJQ(text); jqErr == nil {
				return f, nil
			}
		}
	}
	if err == nil {
		return &Filter{text: text, root: p.root, rng: p.rng, terms: p.terms}, nil
	}
	if _, jqErr := gojq.Parse(text); jqErr == nil {
		// Valid jq syntax: report whichever reading got further.
		f, jqErr := compileJQ(text)
		if jqErr == nil {
			return f, nil
		}
		if offset(jqErr) > offset(err) {
			return nil, jqErr
		}
	}
	return nil, err
}

func offset(err error) int {
	if se, ok := err.(*SyntaxError); ok {
		return se.Offset
	}
	return -1
}

// looksLikeJQ reports whether text starts the way only a jq program does.
func looksLikeJQ(text string) bool {
	s := strings.TrimLeft(text, " \t\r\n")
	switch c := s[0]; {
	case strings.IndexByte(`.([{"$@`, c) >= 0, c >= '0' && c <= '9':
		return true
	}
	word := s
	if i := strings.IndexFunc(s, func(r rune) bool { return !isIdentRune(r) }); i >= 0 {
		word, s = s[:i], s[i:]
	} else {
		s = ""
	}
	switch word {
	case "not", "if", "def", "reduce", "foreach", "try", "label", "import", "include", "true", "false", "null":
		return true
	}
	return word != "" && strings.HasPrefix(s, "(")
}

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// String returns the filter as it was typed.
func (f *Filter) String() string { return f.text }

// IsJQ reports whether the filter is a jq program (not quick terms).
func (f *Filter) IsJQ() bool { return f.jq }

// Plan describes how the filter is answered: index and column operations,
// and the residual jq programs with the literals their events must contain.
func (f *Filter) Plan() string {
	if f.root == nil {
		return "all"
	}
	return f.root.String()
}

// RawPrefilter returns a test of an event's original bytes that is false
// only for events the filter certainly does not keep ("username":"bob"
// is not in them), or nil when the filter has no such test. It is cheap
// next to decoding: a headless printer can leave the events it rules out
// unstored. The events it passes still need Eval. Safe for concurrent use.
func (f *Filter) RawPrefilter() func(raw []byte) bool {
	if f == nil || len(f.lits) == 0 {
		return nil
	}
	lits := f.lits
	return func(raw []byte) bool { return mayContainAll(raw, lits) }
}

// RawSkimmer returns a test of a document (a log line) for a reader that
// leaves out the events the filter certainly does not keep without
// decoding them: stub is true when doc is one audit event, valid with
// nothing to report (audit.Skim), that RawPrefilter rules out, and
// stageTime is its time. When the pre-filter's literals are all whole
// JSON strings and key:value pairs, they are looked for in the same pass
// that validates doc (audit.SkimTokens) instead of a search of its own.
// nil when the filter has no pre-filter. Safe for concurrent use.
func (f *Filter) RawSkimmer() func(doc []byte) (stageTime time.Time, stub bool) {
	pre := f.RawPrefilter()
	if pre == nil {
		return nil
	}
	lits := f.lits
	if toks, ok := tokensOf(lits); ok {
		return func(doc []byte) (time.Time, bool) {
			t, ok, found, escaped := audit.SkimTokens(doc, toks)
			return t, ok && !mayContainFound(lits, found, escaped)
		}
	}
	return func(doc []byte) (time.Time, bool) {
		if pre(doc) {
			return time.Time{}, false
		}
		return audit.Skim(doc)
	}
}

// Between returns a filter that also keeps only events whose stageTimestamp
// is at or after since and before until; a zero time leaves that side open.
// Events without a stageTimestamp are dropped when either side is set.
func (f *Filter) Between(since, until time.Time) *Filter {
	if since.IsZero() && until.IsZero() {
		return f
	}
	w := timeAtom(since, until)
	g := *f
	g.rng.narrowTo(since, until)
	if g.root == nil {
		g.root = w
	} else {
		g.root = &andNode{l: w, r: f.root}
	}
	return &g
}

// Stats describes the jq work one Eval did.
type Stats struct {
	Decoded    int   // events decoded and run through gojq
	Skipped    int   // events the literal pre-filter ruled out without decoding
	Errors     int   // events on which a jq program raised an error
	FirstError error // the first such error
}

// Eval returns the events of candidates that the filter keeps. candidates
// are event IDs of st: usually st.Requests() for tables, st.All() to print
// every stage. It never modifies candidates. It stops early with ctx's
// error when ctx is done.
//
// An event is kept when the filter's first output for it is truthy (not
// false or null). An event on which jq raises an error before that first
// output, or for which the program produces no output, is not kept: jq
// 'select(F)' prints nothing for it either (jq reports the error and goes
// on with the next input; kaudit counts it in Stats). For filters with at
// most one output — every comparison, and/or/not of them — this is exactly
// `select(F)`; a filter with several outputs keeps the event when the
// first is truthy, where select would print it once per truthy output.
// halt and halt_error count as errors and do not stop the evaluation.
func (f *Filter) Eval(ctx context.Context, st *store.Store, candidates *store.Set) (*store.Set, error) {
	s, _, err := f.EvalStats(ctx, st, candidates)
	return s, err
}

// EvalStats is Eval that also reports the jq work done.
//
// A rebase of the store's IDs during the evaluation (store.Store.IDBase)
// could mix sets of two bases: it is evaluated again over the candidates
// moved (they are taken to be of the base current when it is called).
func (f *Filter) EvalStats(ctx context.Context, st *store.Store, candidates *store.Set) (*store.Set, Stats, error) {
	base := st.IDBase()
	for {
		out, stats, err := f.eval(&evalCtx{ctx: ctx, st: st}, candidates)
		cur := st.IDBase()
		if err != nil || cur == base {
			return out, stats, err
		}
		candidates, base = store.MoveSet(candidates, base, cur), cur
	}
}

func (f *Filter) eval(ec *evalCtx, candidates *store.Set) (*store.Set, Stats, error) {
	if f == nil || f.root == nil {
		return candidates.Clone(), Stats{}, nil
	}
	t, _, err := f.root.eval(ec, candidates, false)
	if err != nil {
		return nil, ec.stats(), err
	}
	if t == candidates {
		t = t.Clone()
	}
	return t, ec.stats(), nil
}

// evalCtx is what one evaluation shares between the nodes of a plan.
type evalCtx struct {
	ctx context.Context
	st  *store.Store

	noPrefilter bool                                     // tests: decode every candidate of a residue
	input       func(id uint32, raw []byte) (any, error) // tests: decoded inputs; nil decodes raw

	decoded, skipped, errors atomic.Int64
	firstErr                 atomic.Pointer[error]
}

// rawSource reads events' original bytes: through a RawReader (which reads
// a large window at once) when they are close together, one by one when
// they are scattered.
type rawSource struct {
	st  *store.Store
	rr  *store.RawReader
	buf []byte
}

// denseGap is the average distance in IDs up to which a window read pays.
const denseGap = 64

func (r *rawSource) raw(id uint32, dense bool) ([]byte, error) {
	if dense {
		return r.rr.Raw(id)
	}
	var err error
	r.buf, err = r.st.Raw(id, r.buf[:0])
	return r.buf, err
}

// dense reports whether ids (sorted) are close enough for window reads.
func dense(ids []uint32) bool {
	return len(ids) > 0 && uint64(ids[len(ids)-1]-ids[0]) < uint64(len(ids))*denseGap
}

func (ec *evalCtx) source() *rawSource { return &rawSource{st: ec.st, rr: ec.reader()} }

// reader and release borrow a RawReader from the store, whose window
// outlives this evaluation: the next filter over the same events (detect
// runs a pack of them) finds their bytes already read.
func (ec *evalCtx) reader() *store.RawReader { return ec.st.AcquireRawReader() }

func (ec *evalCtx) release(r *store.RawReader) { ec.st.ReleaseRawReader(r) }

func (ec *evalCtx) decode(id uint32, raw []byte) (any, error) {
	if ec.input != nil {
		return ec.input(id, raw)
	}
	return DecodeJSON(raw)
}

// sourceOf is event id's source, for jq's source helper.
func (ec *evalCtx) sourceOf(id uint32) string {
	if ec.st == nil {
		return ""
	}
	return ec.st.Source(id)
}

func (ec *evalCtx) jqError(err error) {
	ec.errors.Add(1)
	ec.firstErr.CompareAndSwap(nil, &err)
}

func (ec *evalCtx) stats() Stats {
	s := Stats{Decoded: int(ec.decoded.Load()), Skipped: int(ec.skipped.Load()), Errors: int(ec.errors.Load())}
	if p := ec.firstErr.Load(); p != nil {
		s.FirstError = *p
	}
	return s
}
