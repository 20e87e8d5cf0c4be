package webhook

import (
	"fmt"
	"sync"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// limited are the rejection reasons whose problem lines are rate-limited:
// the ones anyone can cause in a flood before a body is read (no or wrong
// credentials, wrong method, too many requests or bytes at once). Every
// rejection is still counted in Stats.
var limited = map[string]bool{
	ReasonUnauthenticated: true, ReasonForbidden: true, ReasonMethod: true,
	ReasonBusy: true, ReasonBuffersFull: true,
}

// lineLimiter lets at most one problem line per reason through per
// interval. The lines held back are counted: the next line of that reason
// says how many, and flush reports the ones no later line mentioned.
//
// Goroutines: any (a mutex).
type lineLimiter struct {
	mu    sync.Mutex
	every time.Duration
	now   func() time.Time // tests
	last  map[string]time.Time
	held  map[string]int
}

func (l *lineLimiter) init(every time.Duration) {
	l.every, l.now = every, time.Now
	l.last, l.held = map[string]time.Time{}, map[string]int{}
}

// allow reports whether a line of reason may be written now, and how many
// were held back before it.
func (l *lineLimiter) allow(reason string) (ok bool, held int) {
	if !limited[reason] {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if last, seen := l.last[reason]; seen && now.Sub(last) < l.every {
		l.held[reason]++
		return false, 0
	}
	l.last[reason] = now
	held = l.held[reason]
	delete(l.held, reason)
	return true, held
}

// flush returns, per reason, the lines held back for at least an interval
// that no later line reported, and forgets them.
func (l *lineLimiter) flush() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var out map[string]int
	for reason, n := range l.held {
		if now.Sub(l.last[reason]) >= l.every {
			if out == nil {
				out = map[string]int{}
			}
			out[reason] = n
			delete(l.held, reason)
		}
	}
	return out
}

// FlushSuppressed reports the rejections whose lines were held back by the
// rate limit and not yet mentioned (Server calls it on its ticker).
func (w *Receiver) FlushSuppressed() {
	w.init()
	for reason, n := range w.lines.flush() {
		if w.OnProblem != nil {
			w.OnProblem(ingest.Problem{Path: SourceName, Kind: ingest.Rejected,
				Msg: fmt.Sprintf("%d more requests refused (%s) in the last %v; not shown one by one", n, reason, w.lines.every)})
		}
	}
}
