package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// jqBaseOptions are the compiler options of every jq program kaudit runs: the
// helper functions, and nothing else — no environment ($ENV and env are
// empty), no input, no modules.
var jqBaseOptions = []gojq.CompilerOption{
	gojq.WithFunction("latency", 0, 0, helper("latency", func(e *audit.Event) any { return e.Latency().Seconds() })),
	gojq.WithFunction("denied", 0, 0, helper("denied", func(e *audit.Event) any { return e.Denied() })),
	gojq.WithFunction("longrunning", 0, 0, helper("longrunning", func(e *audit.Event) any { return e.LongRunning() })),
}

// jqOptions are jqBaseOptions and the variable the source helper reads.
var jqOptions = append(slices.Clip(jqBaseOptions), gojq.WithVariables([]string{sourceVar}))

// sourceVar holds the event's source for the source helper: where it was
// read (host, file or cluster), which is not in its JSON. Every run binds
// it (see compileWith and CompileProgram).
const sourceVar = "$__kaudit_source"

// sourceDef is `def source: $__kaudit_source;`, added to every program
// run on a store's events; noSourceDef, `def source: "";`, to the others.
var sourceDef, noSourceDef = parseDef("def source: " + sourceVar + "; ."), parseDef(`def source: ""; .`)

func parseDef(src string) *gojq.FuncDef {
	q, err := gojq.Parse(src)
	if err != nil {
		panic(err)
	}
	return q.FuncDefs[0]
}

// compileWith compiles q with the helpers, the source helper included
// (a program's own def of source shadows it).
func compileWith(q *gojq.Query) (*gojq.Code, error) {
	c := *q
	c.FuncDefs = append([]*gojq.FuncDef{sourceDef}, q.FuncDefs...)
	return gojq.Compile(&c, jqOptions...)
}

// helperKeys are the members of an event the helpers read: what
// audit.Decode needs for its timestamps, status code, decision, verb,
// subresource and request URI.
var helperKeys = []string{"auditID", "stage", "verb", "requestURI", "objectRef",
	"responseStatus", "annotations", "requestReceivedTimestamp", "stageTimestamp", "timestamp", "metadata"}

// helper makes a jq function of an audit.Event method. Its input is an
// audit event object; it is decoded with audit.Decode, so the helpers mean
// exactly what audit.Event's methods (and the store's columns) mean.
func helper(name string, f func(*audit.Event) any) func(any, []any) any {
	return func(v any, _ []any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s cannot be applied to %s: want an audit event", name, jqTypeOf(v))
		}
		// Any object is read as an Event (EventList items carry no kind):
		// the members the helpers need, and nothing that could make it
		// look like something else.
		trimmed := make(map[string]any, len(helperKeys)+1)
		for _, k := range helperKeys {
			if x, ok := m[k]; ok {
				trimmed[k] = x
			}
		}
		trimmed["kind"] = "Event"
		b, err := json.Marshal(trimmed)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		evs, err := audit.Decode(b, nil)
		if err != nil || len(evs) != 1 {
			return fmt.Errorf("%s cannot be applied to this object: not an audit event (%v)", name, err)
		}
		return f(&evs[0])
	}
}

func jqTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}

// CompileJQ compiles a jq program with kaudit's helper functions (latency,
// denied, longrunning; source is "" here: it knows no store) and no
// environment access. Errors are *SyntaxError.
func CompileJQ(text string) (*gojq.Code, error) {
	return compileText(text, noSourceDef, jqBaseOptions)
}

// compileText compiles text with def (the source helper) and opts.
func compileText(text string, def *gojq.FuncDef, opts []gojq.CompilerOption) (*gojq.Code, error) {
	q, err := gojq.Parse(text)
	if err != nil {
		return nil, jqParseError(text, err)
	}
	c := *q
	c.FuncDefs = append([]*gojq.FuncDef{def}, q.FuncDefs...)
	code, err := gojq.Compile(&c, opts...)
	if err != nil {
		return nil, jqCompileError(text, err)
	}
	return code, nil
}

// DecodeJSON decodes an event's original bytes the way jq input is fed to
// gojq: numbers as json.Number.
func DecodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func compileJQ(text string) (*Filter, error) {
	q, err := gojq.Parse(text)
	if err != nil {
		return nil, jqParseError(text, err)
	}
	full, err := compileWith(q)
	if err != nil {
		return nil, jqCompileError(text, err)
	}
	// Parts of the plan are compiled when first run: each is a closed
	// part of a program that compiled (the planner never splits inside
	// definitions or variable bindings).
	root, err := planTop(q)
	if err != nil {
		root = &residue{q: q, sh: shapeOf(q), lits: required(q)}
	}
	if r, ok := root.(*residue); ok && r.q == q {
		r.code = full
	}
	return &Filter{text: text, jq: true, root: root, full: full, lits: required(q)}, nil
}

func jqParseError(text string, err error) error {
	var pe *gojq.ParseError
	if errors.As(err, &pe) {
		off := pe.Offset - len(pe.Token)
		if off < 0 || off > len(text) {
			off = min(max(pe.Offset, 0), len(text))
		}
		return syntaxErr(text, off, "jq: "+pe.Error(), err)
	}
	return syntaxErr(text, -1, "jq: "+err.Error(), err)
}

var notDefined = regexp.MustCompile(`not defined: (\$?[A-Za-z_][A-Za-z0-9_:]*)`)

// jqCompileError points at the undefined function or variable the error
// names, when it does.
func jqCompileError(text string, err error) error {
	off := -1
	if m := notDefined.FindStringSubmatch(err.Error()); m != nil {
		name := m[1]
		for i := 0; ; {
			j := strings.Index(text[i:], name)
			if j < 0 {
				break
			}
			j += i
			end := j + len(name)
			if (j == 0 || !isIdentRune(rune(text[j-1])) && text[j-1] != '$') && (end == len(text) || !isIdentRune(rune(text[end]))) {
				off = j
				break
			}
			i = j + 1
		}
	}
	return syntaxErr(text, off, "jq: "+err.Error(), err)
}

// residue is a jq program run by gojq on each candidate.
type residue struct {
	q    *gojq.Query
	sh   shape
	lits []lit // literals the raw bytes of every truthy event contain

	once sync.Once // compiles code on first use when it was not given
	code *gojq.Code
	err  error
}

func newResidue(q *gojq.Query, eager bool) (*residue, error) {
	r := &residue{q: q, sh: shapeOf(q), lits: required(q)}
	if eager {
		if err := r.compile(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *residue) compile() error {
	r.once.Do(func() {
		if r.code == nil {
			r.code, r.err = compileWith(r.q)
		}
	})
	return r.err
}

func (r *residue) cost() int    { return costResidue }
func (r *residue) shape() shape { return r.sh }
func (r *residue) String() string {
	s := "jq(" + r.q.String()
	if len(r.lits) > 0 {
		var ls []string
		for _, l := range r.lits {
			ls = append(ls, l.String())
		}
		s += " | bytes ⊇ " + strings.Join(ls, ", ")
	}
	return s + ")"
}

func (r *residue) eval(ec *evalCtx, cand *store.Set, needF bool) (t, f *store.Set, err error) {
	if err := r.compile(); err != nil {
		return nil, nil, err
	}
	var lits []lit
	if !needF && !ec.noPrefilter {
		lits = r.lits
	}
	return runJQ(ec, cand, r.code, lits)
}

// runJQ runs code on each event of cand (its original JSON object) and
// sorts the events by the first output. Events whose bytes lack one of lits
// are not decoded; they count as falsy, so lits may only be given when the
// caller does not need f. The work is spread over the available cores.
func runJQ(ec *evalCtx, cand *store.Set, code *gojq.Code, lits []lit) (t, f *store.Set, err error) {
	ids := cand.ToArray()
	const block = 256
	nblocks := (len(ids) + block - 1) / block
	type result struct{ t, f []uint32 }
	results := make([]result, nblocks)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	fail := func(err error) { firstErr.CompareAndSwap(nil, &err) }
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), nblocks)
	bud := newBudget(ec.ctx, workers)
	defer bud.stop()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := ec.source()
			defer ec.release(src.rr)
			for {
				b := int(next.Add(1) - 1)
				if b >= nblocks || firstErr.Load() != nil {
					return
				}
				if bud.ctx.Err() != nil {
					fail(context.Cause(bud.ctx))
					return
				}
				res := &results[b]
				blk := ids[b*block : min((b+1)*block, len(ids))]
				dense := dense(blk)
				for _, id := range blk {
					raw, err := src.raw(id, dense)
					if err != nil {
						fail(err)
						return
					}
					if len(lits) > 0 && !mayContainAll(raw, lits) {
						ec.skipped.Add(1)
						res.f = append(res.f, id)
						continue
					}
					ec.decoded.Add(1)
					bud.begin(w)
					tr := firstOutput(ec, bud.ctx, code, id, raw)
					bud.end(w)
					switch tr {
					case triT:
						res.t = append(res.t, id)
					case triF:
						res.f = append(res.f, id)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := bud.err(); err != nil {
		return nil, nil, err
	}
	if p := firstErr.Load(); p != nil {
		return nil, nil, *p
	}
	if err := ec.ctx.Err(); err != nil {
		return nil, nil, err
	}
	t, f = roaring.New(), roaring.New()
	for _, res := range results {
		t.AddMany(res.t)
		f.AddMany(res.f)
	}
	return t, f, nil
}

// firstOutput runs code on one event, within ctx (the run's budget), and
// judges its first output.
func firstOutput(ec *evalCtx, ctx context.Context, code *gojq.Code, id uint32, raw []byte) tri {
	v, err := ec.decode(id, raw)
	if err != nil {
		ec.jqError(err)
		return triX
	}
	out, ok := code.RunWithContext(ctx, v, ec.sourceOf(id)).Next()
	if !ok {
		return triX
	}
	if err, isErr := out.(error); isErr {
		if ctx.Err() == nil {
			ec.jqError(err)
		}
		return triX
	}
	if truthy(out) {
		return triT
	}
	return triF
}

func truthy(v any) bool { return v != nil && v != false }
