package tui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kaudit/kaudit/query"
)

// Applying results: computations started for a new filter or tab, and
// the applies of new data, spaced to one per applyEvery (see the package
// comment and liveState).

// work is the background computation of the current tab's result, and
// the spacing of applies of new data.
type work struct {
	seq     uint64
	initCmd tea.Cmd
	cancel  context.CancelFunc
	busy    bool       // a computation is running
	waiting bool       // it was asked for by a key (filter, tab): show "…"
	redo    bool       // the tab changed while it ran: compute again at once
	pending bool       // the store changed and is not applied yet
	live    *liveState // nil while lent to the running computation
	// lastApply and nextApply space out applies of new data (clock time).
	lastApply, nextApply time.Time
	applies              int // applies of new data so far (tests)
}

// startCompute launches the background computation for the current filter
// and tab, replacing (and cancelling) any running one; a cancelled one
// takes the live state with it, so only a new filter should cancel (see
// refresh). user says a key asked for it.
func (m *Model) startCompute(user bool) tea.Cmd {
	if m.work.cancel != nil {
		m.work.cancel()
	}
	m.work.seq++
	ctx, cancel := context.WithCancel(context.Background())
	lv := m.work.live
	m.work.live = nil
	m.work.cancel, m.work.busy, m.work.waiting, m.work.redo = cancel, true, user, false
	if m.detections == nil {
		return safe(compute(ctx, m.st, lv, m.filter, m.tab, m.work.seq, m.sparkWidth()))
	}
	ctx = query.WithFlagged(ctx, flaggedIn{m.detections, m.st}) // rule:NAME terms
	return safe(withDetections(ctx, compute(ctx, m.st, lv, m.filter, m.tab, m.work.seq, m.sparkWidth()), m.st, m.detections))
}

// refresh recomputes the current tab for the current filter: now when
// idle, else as soon as the running computation is done (it holds the
// live state, and the new tab's view builds on it).
func (m *Model) refresh(user bool) tea.Cmd {
	if m.work.busy {
		m.work.redo = true
		m.work.waiting = m.work.waiting || user
		return nil
	}
	return m.startCompute(user)
}

// apply starts folding new data in, and spaces the next apply.
func (m *Model) apply() tea.Cmd {
	now := m.env.clock()
	m.work.pending, m.work.lastApply, m.work.nextApply = false, now, now.Add(applyEvery)
	m.work.applies++
	m.pollProgress()
	return m.startCompute(false)
}

// onChanged is a wake-up from the listening Cmd. It changes nothing on
// screen by itself: new data is applied (and redrawn) at most once per
// applyEvery; a wake-up too soon after the last apply, while a
// computation runs, or while paused is remembered as pending.
func (m Model) onChanged() (Model, tea.Cmd) {
	now := m.env.clock()
	switch {
	case m.paused || m.work.busy:
		// The result (or space) applies what is pending.
		m.work.pending = true
		return m, listen(m.env.sig, m.work.nextApply, false)
	case now.Before(m.work.nextApply):
		m.work.pending = true
		return m, listen(m.env.sig, m.work.nextApply, true)
	}
	return m, tea.Batch(listen(m.env.sig, now.Add(applyEvery), false), m.apply())
}

// pollProgress reads the input's progress and the byte rate (for the
// ETA) since the previous poll.
func (m *Model) pollProgress() {
	if m.env.progress == nil {
		return
	}
	prev, now := m.hdr.prog, m.env.now()
	m.hdr.prog = m.env.progress()
	if !m.hdr.progAt.IsZero() {
		if dt := now.Sub(m.hdr.progAt).Seconds(); dt > 0.05 && m.hdr.prog.Bytes >= prev.Bytes {
			m.hdr.byteRate = float64(m.hdr.prog.Bytes-prev.Bytes) / dt
		}
	}
	m.hdr.progAt = now
}

func (m Model) onResult(r resultMsg) (Model, tea.Cmd) {
	if r.seq != m.work.seq {
		return m, nil // a newer filter replaced it
	}
	m.work.busy, m.work.waiting = false, m.work.waiting && m.work.redo
	var sortCmd tea.Cmd
	follow := m.follow && m.atNewest() // before the result: see atNewest
	switch {
	case errors.Is(r.err, context.Canceled):
	case r.err != nil:
		m.status.err = r.err.Error()
		m.work.live = nil // start afresh next time
	default:
		m.status.err = ""
		m.work.live = r.live
		// A result over the same requests (a replay's last batch, a live
		// tick that brought none) leaves a find's matches valid: carry
		// them over rather than ask for the search again.
		if f := &m.find; f.set != nil && f.set == m.res.set && r.set != nil && r.base == m.res.base && r.set.Equals(f.set) {
			f.set = r.set
		}
		m.res = r
		m.evsort.order.rebase(r.base) // the order keeps its rows across a rebase
		m.applySort()
		m.updateRange(r)
		if m.keep.on {
			m.sync()
			m.restore()
		}
		if follow && m.tab == tabEvents {
			m.toNewest()
		}
		m.sync()
		sortCmd = tea.Batch(m.resortDue(), m.findingsDue())
		// A slow computation (a tab's first view over a million
		// events) spaces the next apply by its own duration, so that
		// live ingest keeps at most half a core busy.
		m.work.nextApply = m.work.lastApply.Add(max(applyEvery, r.took))
	}
	switch {
	case m.work.redo:
		return m, tea.Batch(sortCmd, m.startCompute(m.work.waiting))
	case m.work.pending && !m.paused && !m.env.clock().Before(m.work.nextApply):
		return m, tea.Batch(sortCmd, m.apply())
	case m.work.pending && !m.paused:
		// The listening Cmd is waiting for a signal: raise it again, and
		// it wakes the model once the apply is due.
		m.env.sig.Notify()
	}
	return m, sortCmd
}

// updateRange refreshes the header's time range and event rate. The rate
// counts events appended (the ID base plus the store's length), which a
// rebase leaves as it is.
func (m *Model) updateRange(r resultMsg) {
	m.hdr.first, m.hdr.last = r.first, r.last
	n, now := int(r.base)+r.total, m.env.now()
	if !m.hdr.rateAt.IsZero() {
		if dt := now.Sub(m.hdr.rateAt).Seconds(); dt > 0.05 {
			m.hdr.rate = float64(n-m.hdr.rateN) / dt
		}
	}
	m.hdr.rateN, m.hdr.rateAt = n, now
}
