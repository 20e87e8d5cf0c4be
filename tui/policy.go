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

// policyPane is the detail id of the policy simulation pane.
const policyPane = noDetail - 2

// policyMsg is a finished simulation.
type policyMsg struct {
	report   string
	err      error
	requests uint64
	filter   string
}

// policyKey starts a simulation of the current filter's requests (P); ok
// is false when the key is not that one.
func (m Model) policyKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.policy == nil || m.detail != nil || m.detailWant != noDetail || !key.Matches(k, m.keys.Policy) {
		return m, nil, false
	}
	set := m.res.set
	if set == nil {
		m.note = "nothing to simulate yet"
		return m, nil, true
	}
	m.note = fmt.Sprintf("simulating the audit policy over %d requests…", set.GetCardinality())
	st, simulate, filter := m.st, m.policy, m.filter.String()
	return m, safe(func() tea.Msg {
		report, err := simulate(context.Background(), st, set)
		return policyMsg{report: report, err: err, requests: set.GetCardinality(), filter: filter}
	}), true
}

// onPolicy shows the simulation in a scrollable pane.
func (m Model) onPolicy(msg policyMsg) Model {
	if msg.err != nil {
		m.note = "policy simulation failed: " + msg.err.Error()
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
	d := newDetailView(policyPane, b.String(), m.width, m.bodyHeight())
	m.detail, m.note = &d, ""
	return m
}
