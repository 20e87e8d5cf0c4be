package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/store"
)

// PolicyFunc simulates an audit policy over requests (each with every
// stored stage) and returns the report as text. cmd/kaudit wires package
// policy in (tui does not import it); it runs in a Cmd goroutine and
// should stop when ctx is cancelled.
type PolicyFunc func(ctx context.Context, st *store.Store, requests *store.Set) (string, error)

// simulation is the P key's background work: at most one simulation
// runs, tagged with a sequence number, and esc cancels it, so that a
// late report never opens a pane the user left.
type simulation struct {
	run    PolicyFunc // nil: no policy given
	seq    uint64
	cancel context.CancelFunc // nil when none runs
	set    *store.Set         // the requests the running one simulates
}

// policyMsg is a finished simulation.
type policyMsg struct {
	seq      uint64
	report   string
	err      error
	requests uint64
	filter   string
}

// policyKey starts a simulation of the current filter's requests (P); ok
// is false when the key is not that one. P again while it runs over the
// same requests does not start a second one.
func (m Model) policyKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.sim.run == nil || m.over.pane != paneTable || !key.Matches(k, m.keys.Policy) {
		return m, nil, false
	}
	set := m.res.set
	switch {
	case set == nil:
		m.status.note = "nothing to simulate yet"
		return m, nil, true
	case m.sim.cancel != nil && m.sim.set == set:
		return m, nil, true // already simulating these requests
	}
	m.stopSimulation()
	n := set.GetCardinality()
	m.status.note = fmt.Sprintf("simulating the audit policy over %d requests…", n)
	ctx, cancel := context.WithCancel(context.Background())
	m.sim.seq++
	m.sim.cancel, m.sim.set = cancel, set
	st, simulate, filter, seq, base := m.st, m.sim.run, m.filter.String(), m.sim.seq, m.res.base
	return m, safe(func() tea.Msg {
		// In one ID base of the store (see rebase.go): simulated again
		// should it rebase meanwhile.
		msg, _ := stable(st, func(cur uint64) policyMsg {
			report, err := simulate(ctx, st, moveSet(set, base, cur))
			return policyMsg{seq: seq, report: report, err: err, requests: n, filter: filter}
		})
		return msg
	}), true
}

// stopSimulation cancels the running simulation, if any; its report will
// be dropped.
func (m *Model) stopSimulation() {
	if m.sim.cancel == nil {
		return
	}
	m.sim.cancel()
	m.sim.cancel, m.sim.set = nil, nil
	m.status.note = ""
}

// onPolicy shows the simulation in a scrollable pane, unless it was
// cancelled or replaced since.
func (m Model) onPolicy(msg policyMsg) Model {
	if msg.seq != m.sim.seq || m.sim.cancel == nil {
		return m
	}
	m.sim.cancel()
	m.sim.cancel, m.sim.set = nil, nil
	if msg.err != nil {
		m.status.note = "policy simulation failed: " + msg.err.Error()
		return m
	}
	scope := "every request"
	if msg.filter != "" {
		scope = "the requests of filter " + msg.filter
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Audit policy simulation over %s (%d) · esc: back\n\n", printable(scope), msg.requests)
	for line := range strings.SplitSeq(strings.TrimRight(msg.report, "\n"), "\n") {
		b.WriteString(printable(line))
		b.WriteByte('\n')
	}
	m.show(panePolicy, b.String())
	m.status.note = ""
	return m
}
