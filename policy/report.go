package policy

import (
	"math"
	"time"
)

// Report is a simulation ready to print: totals, per-day rates and the
// difference against a baseline (the policy that produced the log, given
// with --current, or else what the log holds).
type Report struct {
	Policy        string        `json:"policy"`
	Baseline      string        `json:"baseline"` // "recorded" or the --current policy file
	Requests      int           `json:"requests"`
	SpanSeconds   float64       `json:"spanSeconds"`
	Recorded      Volume        `json:"recorded"`
	Predicted     Volume        `json:"predicted"`
	BaselineTotal Volume        `json:"baselineTotal"`
	PerDay        Rates         `json:"perDay"`
	AboveRecorded int           `json:"aboveRecorded"`
	Inferred      int64         `json:"inferredEvents"`
	Rules         []RuleReport  `json:"rules"`
	Breakdown     []KeyCount    `json:"breakdown,omitempty"`
	span          time.Duration // for tests
}

// RuleReport is one rule's line of a Report.
type RuleReport struct {
	*RuleResult
	PerDay Rates `json:"perDay"`
}

// Rates are a volume and its difference against the baseline, per day of
// log time; zero when the log spans less than a second.
type Rates struct {
	Events      float64 `json:"events"`
	MB          float64 `json:"mb"`
	DeltaEvents float64 `json:"deltaEvents"` // negative: saved
	DeltaMB     float64 `json:"deltaMB"`
}

func ratesOf(v, base Volume, span time.Duration) Rates {
	// Rounded (events to 0.1, MB to 0.001) so that output is the same everywhere.
	return Rates{
		Events:      round(PerDay(v.Events, span), 10),
		MB:          round(PerDay(v.Bytes, span)/1e6, 1000),
		DeltaEvents: round(PerDay(v.Events-base.Events, span), 10),
		DeltaMB:     round(PerDay(v.Bytes-base.Bytes, span)/1e6, 1000),
	}
}

// Simulate runs p over the recorded requests and compares it with current,
// or with what the log holds when current is nil. Rules that matched no
// request are kept (a rule that never applies is worth seeing); the "no
// rule matched" row only when it matched something.
func (s *Simulator) Simulate(p, current *Policy, policyName, currentName string, breakdown bool) *Report {
	res := s.Run(p)
	var base Volume
	if current != nil {
		cur := s.Run(current)
		res.Baseline(cur)
		base = cur.Total
	} else {
		s.RecordedBaseline(res)
		base = s.Recorded
		currentName = "recorded"
	}
	span := s.Span()
	rep := &Report{
		Policy: policyName, Baseline: currentName, Requests: s.Requests(), SpanSeconds: round(span.Seconds(), 1000),
		Recorded: s.Recorded, Predicted: res.Total, BaselineTotal: base, PerDay: ratesOf(res.Total, base, span),
		AboveRecorded: res.AboveRecorded, Inferred: res.Inferred, span: span,
	}
	for _, rr := range res.Rules {
		if rr.Rule < 0 && rr.Requests == 0 {
			continue
		}
		rep.Rules = append(rep.Rules, RuleReport{RuleResult: rr, PerDay: ratesOf(rr.Volume, rr.Baseline, span)})
	}
	if breakdown {
		rep.Breakdown = res.Breakdown
	}
	return rep
}

func round(x, scale float64) float64 { return math.Round(x*scale) / scale }
