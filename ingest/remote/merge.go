package remote

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// Window bounds how long the live merge holds an event back waiting for
// an older one from another host: an event is handed on once every host
// has one held (the oldest held is then the oldest to come, each host's
// log being in order), or once it was held Hold, or when more than Events
// are held. So hosts merge exactly when they all keep writing; a host
// quiet for longer than Hold, or a clock skewed by more than Hold, gives
// events out of time order (never lost).
type Window struct {
	Hold   time.Duration // 0: DefaultHold
	Events int           // 0: DefaultHeld
}

// Defaults of Window: one second and a half covers the delay of ssh and
// the remote follow loop (which polls every quarter second) on a busy host.
const (
	DefaultHold = 1500 * time.Millisecond
	DefaultHeld = 4096
)

func (w Window) orDefault() Window {
	if w.Hold <= 0 {
		w.Hold = DefaultHold
	}
	if w.Events <= 0 {
		w.Events = DefaultHeld
	}
	return w
}

// laneCredit is how many batches of one host may wait in the merge: a
// host that is ahead waits for the others, with bounded memory.
const laneCredit = 4

// arrival is a host's batch (or its end) reaching the merge.
type arrival struct {
	lane int
	b    ingest.Batch
	end  bool
	err  error
}

// lane is one host in the merge: its batches in arrival order, the next
// event to hand on being q[0].Events[next].
type lane struct {
	host   string
	credit chan struct{} // one token per batch in q (taken by the host's goroutine)
	q      []held
	next   int
	ended  bool
}

type held struct {
	b  ingest.Batch
	at time.Time // when it arrived
}

func (l *lane) empty() bool { return len(l.q) == 0 }

func (l *lane) head() *audit.Event { return &l.q[0].b.Events[l.next] }

// key orders events: stageTimestamp, else requestReceivedTimestamp;
// events with neither go first (they cannot be placed).
func key(e *audit.Event) int64 {
	switch {
	case !e.StageTime.IsZero():
		return e.StageTime.UnixNano()
	case !e.Received.IsZero():
		return e.Received.UnixNano()
	}
	return 0
}

// merger is the k-way merge of the lanes' heads. Replay merges strictly
// (it waits for every host); live, it waits at most the Window.
//
// Goroutines: Source.Run's only.
type merger struct {
	lanes  []*lane
	in     <-chan arrival
	live   bool
	window Window
	emit   func(ingest.Batch) error
	held   int   // events held in all lanes
	err    error // the first host's failure (not its input's: those are problems)
}

func (m *merger) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := m.release(time.Now()); err != nil {
			return err
		}
		if m.err != nil && !errors.Is(m.err, context.Canceled) {
			return m.err
		}
		if m.finished() {
			return nil
		}
		var wake <-chan time.Time
		if l := m.oldest(); l != nil && m.live {
			timer.Reset(time.Until(l.q[0].at.Add(m.window.Hold)))
			wake = timer.C
		}
		select {
		case a := <-m.in:
			m.add(a)
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (m *merger) add(a arrival) {
	l := m.lanes[a.lane]
	if a.end {
		l.ended = true
		m.err = cmp.Or(m.err, a.err)
		return
	}
	if len(a.b.Events) == 0 {
		<-l.credit
		return
	}
	l.q = append(l.q, held{b: a.b, at: time.Now()})
	m.held += len(a.b.Events)
}

func (m *merger) finished() bool {
	for _, l := range m.lanes {
		if !l.ended || !l.empty() {
			return false
		}
	}
	return true
}

// ready reports whether every host that may still send has an event
// held: the oldest head is then the oldest event to come.
func (m *merger) ready() bool {
	for _, l := range m.lanes {
		if l.empty() && !l.ended {
			return false
		}
	}
	return true
}

// oldest is the lane whose head is the oldest (nil: nothing held); ties
// go to the first lane, so equal times keep argument order.
func (m *merger) oldest() *lane {
	var best *lane
	var bk int64
	for _, l := range m.lanes {
		if l.empty() {
			continue
		}
		if k := key(l.head()); best == nil || k < bk {
			best, bk = l, k
		}
	}
	return best
}

// release hands on, in time order, every held event that may go now,
// coalescing runs from one batch into one batch.
func (m *merger) release(now time.Time) error {
	var run ingest.Batch
	var from *lane
	start := 0
	flush := func() error {
		if from == nil {
			return nil
		}
		err := m.emit(run)
		from = nil
		return err
	}
	for {
		l := m.oldest()
		if l == nil || !(m.ready() || m.held > m.window.Events || m.live && now.Sub(l.q[0].at) >= m.window.Hold) {
			return flush()
		}
		b := l.q[0].b
		if from != l || start+len(run.Events) != l.next { // a run never spans batches: it is flushed at a batch's end
			if err := flush(); err != nil {
				return err
			}
			from, start = l, l.next
			run = ingest.Batch{Raw: b.Raw, Pos: b.Pos}
			run.Events = b.Events[start:start]
			run.Offsets = b.Offsets[start:start]
		}
		run.Events = run.Events[:len(run.Events)+1]
		run.Offsets = run.Offsets[:len(run.Offsets)+1]
		l.next++
		m.held--
		if l.next == len(b.Events) {
			l.q, l.next = l.q[1:], 0
			<-l.credit
			if err := flush(); err != nil { // b's slices end here
				return err
			}
		}
	}
}
