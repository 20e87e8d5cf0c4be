package tui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"
)

// Applying results: computations started for a new filter or tab, and
// the applies of new data, spaced to one per applyEvery (see the package
// comment and liveState).

// startCompute launches the background computation for the current filter
// and tab, replacing (and cancelling) any running one; a cancelled one
// takes the live state with it, so only a new filter should cancel (see
// refresh). user says a key asked for it.
func (m *Model) startCompute(user bool) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.seq++
	ctx, cancel := context.WithCancel(context.Background())
	lv := m.live
	m.live = nil
	m.cancel, m.busy, m.waiting, m.redo = cancel, true, user, false
	return safe(compute(ctx, m.st, lv, m.filter, m.tab, m.seq, m.sparkWidth()))
}

// refresh recomputes the current tab for the current filter: now when
// idle, else as soon as the running computation is done (it holds the
// live state, and the new tab's view builds on it).
func (m *Model) refresh(user bool) tea.Cmd {
	if m.busy {
		m.redo = true
		m.waiting = m.waiting || user
		return nil
	}
	return m.startCompute(user)
}

// apply starts folding new data in, and spaces the next apply.
func (m *Model) apply() tea.Cmd {
	now := m.clock()
	m.pending, m.lastApply, m.nextApply = false, now, now.Add(applyEvery)
	m.applies++
	m.pollProgress()
	return m.startCompute(false)
}

// onChanged is a wake-up from the listening Cmd. It changes nothing on
// screen by itself: new data is applied (and redrawn) at most once per
// applyEvery; a wake-up too soon after the last apply, while a
// computation runs, or while paused is remembered as pending.
func (m Model) onChanged() (tea.Model, tea.Cmd) {
	now := m.clock()
	switch {
	case m.paused || m.busy:
		// The result (or space) applies what is pending.
		m.pending = true
		return m, listen(m.sig, m.nextApply, false)
	case now.Before(m.nextApply):
		m.pending = true
		return m, listen(m.sig, m.nextApply, true)
	}
	return m, tea.Batch(listen(m.sig, now.Add(applyEvery), false), m.apply())
}

// pollProgress reads the input's progress and the byte rate (for the
// ETA) since the previous poll.
func (m *Model) pollProgress() {
	if m.progress == nil {
		return
	}
	prev, now := m.prog, m.now()
	m.prog = m.progress()
	if !m.progAt.IsZero() {
		if dt := now.Sub(m.progAt).Seconds(); dt > 0.05 && m.prog.Bytes >= prev.Bytes {
			m.byteRate = float64(m.prog.Bytes-prev.Bytes) / dt
		}
	}
	m.progAt = now
}

func (m Model) onResult(r resultMsg) (tea.Model, tea.Cmd) {
	if r.seq != m.seq {
		return m, nil // a newer filter replaced it
	}
	m.busy, m.waiting = false, m.waiting && m.redo
	var sortCmd tea.Cmd
	switch {
	case errors.Is(r.err, context.Canceled):
	case r.err != nil:
		m.err = r.err.Error()
		m.live = nil // start afresh next time
	default:
		m.err = ""
		m.live = r.live
		m.res = r
		m.applySort()
		m.updateRange(r)
		if m.follow && m.tab == tabEvents {
			m.toNewest()
		}
		m.clamp()
		sortCmd = m.resortDue()
		// A slow computation (a tab's first view over a million
		// events) spaces the next apply by its own duration, so that
		// live ingest keeps at most half a core busy.
		m.nextApply = m.lastApply.Add(max(applyEvery, r.took))
	}
	switch {
	case m.redo:
		return m, tea.Batch(sortCmd, m.startCompute(m.waiting))
	case m.pending && !m.paused && !m.clock().Before(m.nextApply):
		return m, tea.Batch(sortCmd, m.apply())
	case m.pending && !m.paused:
		// The listening Cmd is waiting for a signal: raise it again, and
		// it wakes the model once the apply is due.
		m.sig.Notify()
	}
	return m, sortCmd
}

// updateRange refreshes the header's time range and event rate.
func (m *Model) updateRange(r resultMsg) {
	m.first, m.last = r.first, r.last
	n, now := r.total, m.now()
	if !m.rateAt.IsZero() {
		if dt := now.Sub(m.rateAt).Seconds(); dt > 0.05 {
			m.rate = float64(n-m.rateN) / dt
		}
	}
	m.rateN, m.rateAt = n, now
}
