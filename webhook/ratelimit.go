package webhook

import (
	"fmt"
	"sync"
	"time"
)

// Refusals a sender can cause by the thousand (401 without credentials,
// 429 when busy) are logged at most logBurst times per logWindow for each
// status, whoever sends them; the lines left out are counted and the next
// line logged says how many. Counters (Stats) still count every one.
const (
	logBurst  = 5
	logWindow = 10 * time.Second
)

// logLimiter decides which refusal lines are logged. Goroutines: any (a
// mutex guards it; every request's handler calls allow).
type logLimiter struct {
	mu  sync.Mutex
	now func() time.Time // tests set it
	per map[int]*logWindowState
}

type logWindowState struct {
	start      time.Time
	logged     int
	suppressed int
}

// allow reports whether a line for status may be logged now and, if so, a
// note on the lines left out since the last one ("" when none).
func (l *logLimiter) allow(status int) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	if l.per == nil {
		l.per = map[int]*logWindowState{}
	}
	w := l.per[status]
	if w == nil || now.Sub(w.start) >= logWindow {
		if w == nil {
			w = &logWindowState{}
			l.per[status] = w
		}
		w.start, w.logged = now, 0
	}
	if w.logged >= logBurst {
		w.suppressed++
		return false, ""
	}
	w.logged++
	note := ""
	if w.suppressed > 0 {
		note = fmt.Sprintf(" (and %d more like it not logged)", w.suppressed)
		w.suppressed = 0
	}
	return true, note
}

// limited reports whether lines for status go through the limiter.
func limited(status int) bool { return status == 401 || status == 429 }
