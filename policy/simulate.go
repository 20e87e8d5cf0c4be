package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"

	"github.com/kaudit/kaudit/audit"
)

// Simulator collects recorded requests and predicts what policies would
// have written for them. Add events, then call Run once per policy. It is
// used by one goroutine.
type Simulator struct {
	reqs     map[string]*request
	order    []*request
	first    time.Time
	last     time.Time
	Recorded Volume // what the log holds (after de-duplication)
}

// request is one recorded request: its attributes and the stages the log holds.
type request struct {
	ev     audit.Event // the first event seen, cloned, Raw dropped
	level  audit.Level // the highest level any of its events was recorded at
	stages [audit.StagePanic + 1]stageRec
}

type stageRec struct {
	present bool
	size    sizes
}

// Volume is a number of events and the bytes they take.
type Volume struct {
	Events int64 `json:"events"`
	Bytes  int64 `json:"bytes"`
}

func (v *Volume) add(o Volume) { v.Events += o.Events; v.Bytes += o.Bytes }

// NewSimulator returns an empty simulator.
func NewSimulator() *Simulator { return &Simulator{reqs: map[string]*request{}} }

// Add records one event. The same (auditID, stage) seen twice counts once.
// Events without an auditID cannot be grouped and are ignored.
func (s *Simulator) Add(e *audit.Event) {
	if e.AuditID == "" || e.Stage == audit.StageUnknown || e.Stage > audit.StagePanic {
		return
	}
	r := s.reqs[e.AuditID]
	if r == nil {
		c := e.Clone()
		c.Raw = nil
		r = &request{ev: c}
		s.reqs[c.AuditID] = r
		s.order = append(s.order, r)
	}
	if r.stages[e.Stage].present {
		return
	}
	r.stages[e.Stage] = stageRec{present: true, size: sizesOf(e)}
	r.level = max(r.level, e.Level)
	s.Recorded.add(Volume{1, int64(len(e.Raw)) + 1})
	for _, t := range []time.Time{e.Received, e.StageTime} {
		if t.IsZero() {
			continue
		}
		if s.first.IsZero() || t.Before(s.first) {
			s.first = t
		}
		if t.After(s.last) {
			s.last = t
		}
	}
}

// Requests is the number of distinct requests added.
func (s *Simulator) Requests() int { return len(s.order) }

// Span is the time the log covers (first to last timestamp).
func (s *Simulator) Span() time.Duration { return s.last.Sub(s.first) }

// Result is what one policy would have written for the recorded requests.
type Result struct {
	Total Volume        `json:"total"`
	Rules []*RuleResult `json:"rules"` // one per rule, then one for "no rule matched" (Rule -1)
	// AboveRecorded counts requests for which the policy asks a higher
	// level than the log holds: their bytes are what the log holds, a
	// lower bound.
	AboveRecorded int `json:"aboveRecorded"`
	// Inferred counts RequestReceived events the policy would write that
	// the log does not hold (the recording policy omitted them), predicted
	// from the request's other events.
	Inferred  int64      `json:"inferredEvents"`
	Breakdown []KeyCount `json:"-"`

	perReq []reqOutcome
}

type reqOutcome struct {
	rule int
	vol  Volume
}

// RuleResult is one rule's share of a simulation.
type RuleResult struct {
	Rule          int     `json:"rule"` // -1: no rule matched (level None)
	Line          int     `json:"line"`
	Level         string  `json:"level"`
	Match         string  `json:"match"`
	Requests      int64   `json:"requests"`
	Volume        Volume  `json:"volume"`
	Baseline      Volume  `json:"baseline"` // the same requests under the baseline (set by Compare)
	AboveRecorded int64   `json:"aboveRecorded"`
	TopUsers      []Count `json:"topUsers"`
	TopVerbs      []Count `json:"topVerbs"`
	TopResources  []Count `json:"topResources"`

	users, verbs, resources map[string]int64
}

// Count is one value and how many requests had it.
type Count struct {
	Value string `json:"value"`
	N     int64  `json:"n"`
}

// KeyCount is how many events of one (user, verb, resource, level, stage) a policy writes.
type KeyCount struct {
	User     string `json:"user"`
	Verb     string `json:"verb"`
	Resource string `json:"resource"`
	Level    string `json:"level"`
	Stage    string `json:"stage"`
	Events   int64  `json:"events"`
}

// TopN is how many users, verbs and resources each rule lists.
const TopN = 3

// Run evaluates every recorded request against p with the API server's
// evaluator and adds up what it would write. Levels only go down from what
// was recorded: a request recorded at Metadata cannot tell how big its
// bodies were, so asking for more is counted in AboveRecorded.
func (s *Simulator) Run(p *Policy) *Result {
	ev := NewEvaluator(p.Policy)
	res := &Result{}
	for i := range p.Rules {
		res.Rules = append(res.Rules, newRuleResult(i, p.RuleLine(i), &p.Rules[i]))
	}
	none := newRuleResult(-1, 0, nil)
	res.Rules = append(res.Rules, none)
	keys := map[KeyCount]int64{}
	for _, r := range s.order {
		d := ev.Evaluate(Attributes(&r.ev))
		rr := none
		if d.Rule >= 0 {
			rr = res.Rules[d.Rule]
		}
		rr.Requests++
		rr.users[r.ev.User.Name]++
		rr.verbs[r.ev.Verb]++
		rr.resources[ResourceOf(&r.ev)]++
		var vol Volume
		if d.Level >= audit.LevelMetadata {
			if d.Level > r.level {
				res.AboveRecorded++
				rr.AboveRecorded++
			}
			for st := audit.StageRequestReceived; st <= audit.StagePanic; st++ {
				if d.Omits(st) {
					continue
				}
				rec := r.stages[st]
				if !rec.present {
					if st != audit.StageRequestReceived || !r.inferable() {
						continue
					}
					rec = stageRec{present: true, size: r.receivedSize()}
					res.Inferred++
				}
				vol.add(Volume{1, rec.size[d.Level]})
				keys[KeyCount{User: r.ev.User.Name, Verb: r.ev.Verb, Resource: ResourceOf(&r.ev), Level: d.Level.String(), Stage: st.String()}]++
			}
		}
		rr.Volume.add(vol)
		res.Total.add(vol)
		res.perReq = append(res.perReq, reqOutcome{rule: d.Rule, vol: vol})
	}
	for _, rr := range res.Rules {
		rr.TopUsers, rr.TopVerbs, rr.TopResources = top(rr.users, TopN), top(rr.verbs, TopN), top(rr.resources, TopN)
	}
	for k, n := range keys {
		k.Events = n
		res.Breakdown = append(res.Breakdown, k)
	}
	slices.SortFunc(res.Breakdown, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Verb, b.Verb), cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Level, b.Level), cmp.Compare(a.Stage, b.Stage))
	})
	return res
}

// Baseline sets each rule's Baseline to what base (another Run over the
// same Simulator) wrote for the same requests.
func (res *Result) Baseline(base *Result) {
	for i, o := range res.perReq {
		rr := res.Rules[len(res.Rules)-1]
		if o.rule >= 0 {
			rr = res.Rules[o.rule]
		}
		rr.Baseline.add(base.perReq[i].vol)
	}
}

// RecordedBaseline sets each rule's Baseline to what the log holds for its requests.
func (s *Simulator) RecordedBaseline(res *Result) {
	for i, o := range res.perReq {
		rr := res.Rules[len(res.Rules)-1]
		if o.rule >= 0 {
			rr = res.Rules[o.rule]
		}
		r := s.order[i]
		for _, st := range r.stages {
			if st.present {
				rr.Baseline.add(Volume{1, st.size[r.level]})
			}
		}
	}
}

// inferable: the request went through RequestReceived although the log
// does not show it (every authenticated request does; a failed
// authentication is logged once, at ResponseStarted).
func (r *request) inferable() bool {
	return r.ev.User.Name != "" && (r.stages[audit.StageResponseComplete].present || r.stages[audit.StagePanic].present)
}

// receivedSize estimates a RequestReceived event from the final one: the
// same metadata without responseStatus and response body.
func (r *request) receivedSize() sizes {
	fin := r.stages[audit.StageResponseComplete]
	if !fin.present {
		fin = r.stages[audit.StagePanic]
	}
	s := fin.size
	s[audit.LevelRequestResponse] = s[audit.LevelRequest]
	return s
}

// ResourceOf names what a request acted on: resource[/subresource] for
// resource requests, the path for non-resource requests.
func ResourceOf(e *audit.Event) string {
	if e.Object.Resource == "" {
		p, _, _ := strings.Cut(e.RequestURI, "?")
		return p
	}
	if e.Object.Subresource != "" {
		return e.Object.Resource + "/" + e.Object.Subresource
	}
	return e.Object.Resource
}

func newRuleResult(i, line int, r *auditinternal.PolicyRule) *RuleResult {
	rr := &RuleResult{Rule: i, Line: line, Level: string(auditinternal.LevelNone), Match: "no rule matched",
		users: map[string]int64{}, verbs: map[string]int64{}, resources: map[string]int64{}}
	if r != nil {
		rr.Level, rr.Match = string(r.Level), Describe(r)
	}
	return rr
}

func top(m map[string]int64, n int) []Count {
	out := make([]Count, 0, len(m))
	for v, c := range m {
		out = append(out, Count{v, c})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Value, b.Value)) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Describe is a rule's conditions in one line, e.g.
// "verbs=create,patch resources=pods".
func Describe(r *auditinternal.PolicyRule) string {
	var parts []string
	list := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, name+"="+strings.Join(v, ","))
		}
	}
	list("users", r.Users)
	list("groups", r.UserGroups)
	list("verbs", r.Verbs)
	list("namespaces", r.Namespaces)
	var res []string
	for _, gr := range r.Resources {
		names := gr.Resources
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, n := range names {
			if gr.Group != "" {
				n += "." + gr.Group
			}
			if len(gr.ResourceNames) > 0 {
				n += "[" + strings.Join(gr.ResourceNames, ",") + "]"
			}
			res = append(res, n)
		}
	}
	list("resources", res)
	list("urls", r.NonResourceURLs)
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, " ")
}

// PerDay scales a volume seen over span to one day; zero for spans under a second.
func PerDay(v int64, span time.Duration) float64 {
	if span < time.Second {
		return 0
	}
	return float64(v) * float64(24*time.Hour) / float64(span)
}

func (v Volume) String() string { return fmt.Sprintf("%d events, %d bytes", v.Events, v.Bytes) }
