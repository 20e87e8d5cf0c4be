package detect

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
)

// Outcome is what one condition gave on one event.
type Outcome uint8

// Outcomes of a condition.
const (
	Failed Outcome = iota // falsy, or no output
	Held                  // truthy
	Raised                // jq raised an error (e.g. startswith on a missing field)
)

func (o Outcome) mark() string {
	switch o {
	case Held:
		return "✓ held  "
	case Raised:
		return "! error "
	}
	return "✗ failed"
}

// Condition is one part of a filter and its outcome on an event: a quick
// term, or a jq operand of and/or (Op names the combination, Kids its
// operands).
type Condition struct {
	Text    string
	Op      string // "all of", "any of", or "" for a leaf
	Kids    []*Condition
	Outcome Outcome
}

// Explanation says why a rule did or did not hit one event.
type Explanation struct {
	Rule       *Rule
	ID         store.ID
	Filter     *Condition
	Excepted   bool     // the rule's except filter kept the event
	Suppressed []string // suppressions that matched
	Hit        bool     // filter held, not excepted, not suppressed
	Window     *Fired   // threshold rules: the window at this event (see ExplainThreshold)
	Fired      bool     // threshold rules: this event reached the threshold
}

// Explain evaluates rule r of set on event id of st, condition by
// condition. For a threshold rule, Hit means the event counts toward the
// threshold.
func Explain(ctx context.Context, set *Set, r *Rule, st *store.Store, id store.ID) (*Explanation, error) {
	one := roaring.BitmapOf(id)
	x := &Explanation{Rule: r, ID: id}
	var err error
	if x.Filter, err = conditions(r.Filter, r.filter.IsJQ()); err != nil {
		return nil, err
	}
	if err := x.Filter.eval(ctx, st, one); err != nil {
		return nil, err
	}
	// The verdict is the whole filter's, not a recombination of the parts.
	whole, err := outcome(ctx, r.filter, st, one)
	if err != nil {
		return nil, err
	}
	x.Filter.Outcome = whole
	if r.except != nil {
		o, err := outcome(ctx, r.except, st, one)
		if err != nil {
			return nil, err
		}
		x.Excepted = o == Held
	}
	for _, name := range r.Suppress {
		o, err := outcome(ctx, set.Suppressions[name].filter, st, one)
		if err != nil {
			return nil, err
		}
		if o == Held {
			x.Suppressed = append(x.Suppressed, name)
		}
	}
	x.Hit = whole == Held && !x.Excepted && len(x.Suppressed) == 0
	return x, nil
}

// ExplainThreshold fills in x.Window and x.Fired for a threshold rule: it
// replays the rule over the requests cand (in stream order, up to x's
// event) as Engine.Eval would.
func ExplainThreshold(ctx context.Context, set *Set, st *store.Store, cand *store.Set, x *Explanation) error {
	r := x.Rule
	if r.Threshold == nil || !x.Hit {
		return nil
	}
	e := &Engine{set: set, counters: map[*Rule]*counter{}}
	upTo := cand.Clone()
	upTo.RemoveRange(uint64(x.ID)+1, uint64(^uint32(0))+1)
	ids, err := e.matches(ctx, st, upTo, r, map[string]*store.Set{}, roaring.New())
	if err != nil {
		return err
	}
	c := newCounter(r.Threshold, 0)
	st.Each(ids, func(en *store.Entry) bool {
		f, fired := c.add(en)
		if en.ID == x.ID {
			x.Window, x.Fired = &f, fired
		}
		return true
	})
	return nil
}

func outcome(ctx context.Context, f *query.Filter, st *store.Store, one *store.Set) (Outcome, error) {
	kept, stats, err := f.EvalStats(ctx, st, one)
	switch {
	case err != nil:
		return Failed, err
	case !kept.IsEmpty():
		return Held, nil
	case stats.Errors > 0:
		return Raised, nil
	}
	return Failed, nil
}

func (c *Condition) eval(ctx context.Context, st *store.Store, one *store.Set) error {
	for _, k := range c.Kids {
		if err := k.eval(ctx, st, one); err != nil {
			return err
		}
	}
	f, err := query.Compile(c.Text)
	if err != nil {
		return fmt.Errorf("condition %q: %w", c.Text, err)
	}
	c.Outcome, err = outcome(ctx, f, st, one)
	return err
}

// conditions splits a filter into the parts Explain reports.
func conditions(text string, isJQ bool) (*Condition, error) {
	root := &Condition{Text: text}
	if !isJQ {
		for _, t := range splitTerms(text) {
			root.Kids = append(root.Kids, &Condition{Text: t})
		}
		if len(root.Kids) > 1 {
			root.Op = "all of"
		} else {
			root.Kids = nil
		}
		return root, nil
	}
	q, err := gojq.Parse(text)
	if err != nil {
		return nil, err
	}
	c := jqConditions(q)
	c.Text = text
	return c, nil
}

// jqConditions splits and/or chains; other expressions are leaves.
func jqConditions(q *gojq.Query) *Condition {
	for q.Op == 0 && q.Term != nil && q.Term.Type == gojq.TermTypeQuery && len(q.Term.SuffixList) == 0 {
		q = q.Term.Query // (x) is x
	}
	c := &Condition{Text: q.String()}
	var op gojq.Operator
	switch q.Op {
	case gojq.OpAnd:
		c.Op, op = "all of", gojq.OpAnd
	case gojq.OpOr:
		c.Op, op = "any of", gojq.OpOr
	default:
		return c
	}
	for _, k := range flatten(q, op, nil) {
		c.Kids = append(c.Kids, jqConditions(k))
	}
	return c
}

func flatten(q *gojq.Query, op gojq.Operator, out []*gojq.Query) []*gojq.Query {
	if q.Op == op {
		return flatten(q.Right, op, flatten(q.Left, op, out))
	}
	return append(out, q)
}

// splitTerms splits quick terms at spaces outside double quotes.
func splitTerms(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// WriteExplanation writes x for a terminal (every client-supplied string
// made printable); head describes the event.
func WriteExplanation(w io.Writer, x *Explanation, head string) error {
	verdict := "no hit"
	if x.Hit {
		verdict = "HIT"
		if t := x.Rule.Threshold; t != nil {
			verdict = "counts toward the threshold (" + t.String() + ")"
			if w := x.Window; w != nil {
				verdict = fmt.Sprintf("%d of %d for %s %q within %s", w.Count, t.Count, t.By, w.Key, time.Duration(t.Window))
				switch {
				case x.Fired:
					verdict = "HIT: " + verdict
				case w.Quiet:
					verdict = fmt.Sprintf("no hit: %s %q fired less than %s ago, not counted", t.By, w.Key, time.Duration(t.Window))
				default:
					verdict = "no hit yet: " + verdict
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) on %s: %s\n", x.Rule.Name, x.Rule.Severity, termsafe.Printable(head), verdict)
	writeCondition(&b, x.Filter, "  ")
	if x.Rule.Except != "" {
		fmt.Fprintf(&b, "  except %s: %s\n", termsafe.Printable(oneLine(x.Rule.Except)), map[bool]string{true: "matched (not a hit)", false: "did not match"}[x.Excepted])
	}
	for _, name := range x.Rule.Suppress {
		state := "did not match"
		for _, s := range x.Suppressed {
			if s == name {
				state = "matched (suppressed)"
			}
		}
		fmt.Fprintf(&b, "  suppression %s: %s\n", name, state)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCondition(b *strings.Builder, c *Condition, indent string) {
	if c.Op == "" {
		fmt.Fprintf(b, "%s%s %s\n", indent, c.Outcome.mark(), termsafe.Printable(oneLine(c.Text)))
		return
	}
	fmt.Fprintf(b, "%s%s %s:\n", indent, c.Outcome.mark(), c.Op)
	for _, k := range c.Kids {
		writeCondition(b, k, indent+"    ")
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
