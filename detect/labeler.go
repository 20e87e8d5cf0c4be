package detect

import (
	"context"
	"io"
	"strings"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// Labeler names the rules each event of a stream of batches hits, for
// records that leave kaudit (forwarding: kaudit.detections). It runs a
// Live over a small store of its own that keeps only the latest
// LabelWindow events: enough to tell a request's first event past
// RequestReceived from its later ones, as the UI and --detect-only do. A
// request whose earlier stage left the window (an exec running through
// more than LabelWindow events) is evaluated again at its next stage:
// that record is labelled too, and a threshold rule may count it twice.
//
// A Labeler is used by one goroutine at a time, and has its own threshold
// state: give each stream its own (NewEngine, then Labeler).
type Labeler struct {
	st   *store.Store
	live *Live
	ids  []store.ID // Label's scratch: each event's ID in st, or none
}

// LabelWindow is how many events a Labeler keeps to look back on.
const LabelWindow = 8192

// Labeler returns a labeler over e. e's threshold state becomes the
// labeler's: do not use e for anything else.
func (e *Engine) Labeler() *Labeler {
	l := &Labeler{live: &Live{eng: e}}
	l.restart()
	return l
}

// restartAfter is how many events a Labeler's store takes before the
// Labeler starts a new one. A store's IDs are 32-bit (they would run out
// after 4.3 G events: two days at 25k events/s) and it keeps a pointer per
// chunk of 1024 events it ever held (16 MB a day at that rate), so a
// labeler that runs for weeks starts afresh now and then (every 3 hours at
// that rate). The new store has none of the window: a request whose stage
// past RequestReceived was labelled before the restart is labelled again
// at its next stage, as when that stage left the window.
var restartAfter = 1 << 28

// restart gives the labeler a new, empty store.
func (l *Labeler) restart() {
	l.st = store.New(store.ChunkEvents(1024))
	l.live.next = 0
}

// Label returns, for each event of evs, the names of the rules it hit, in
// the pack's order (nil for none). raw and offsets are where the events'
// bytes are (ingest.Batch's Raw and Offsets): the rules' jq reads them. An
// event that repeats one already seen (same auditID, stage and time) gets
// none, as the store and the UI keep one copy.
func (l *Labeler) Label(ctx context.Context, evs []audit.Event, raw io.ReaderAt, offsets []int64) ([][]string, error) {
	if l.st.Len() >= restartAfter {
		l.restart()
	}
	from := store.ID(l.st.Len())
	res := l.st.Append(evs, raw, offsets) // one append per batch: Append's cost is mostly per call
	l.ids = l.ids[:0]
	for i := range evs {
		l.ids = append(l.ids, from+store.ID(i))
	}
	if res.Duplicates > 0 {
		l.matchIDs(evs, from)
	}
	hits, err := l.live.Eval(ctx, l.st)
	l.st.Retain(LabelWindow, 0)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(evs))
	if len(hits) == 0 {
		return out, nil
	}
	// hits are sorted by event, then rule order, as ids are: walk both.
	h := 0
	for i, id := range l.ids {
		if id == none {
			continue
		}
		for h < len(hits) && hits[h].ID < id {
			h++
		}
		for ; h < len(hits) && hits[h].ID == id; h++ {
			out[i] = append(out[i], hits[h].Rule.Name)
		}
	}
	return out, nil
}

// matchIDs sets l.ids when some of evs were duplicates the store dropped:
// the events it kept got the IDs from `from` on, in order, so each event
// either is the next kept one (same auditID, stage and time: the store's
// own duplicate key) or was dropped.
func (l *Labeler) matchIDs(evs []audit.Event, from store.ID) {
	end := store.ID(l.st.Len())
	next := from
	for i := range evs {
		l.ids[i] = none
		if next >= end {
			continue
		}
		en := l.st.Entry(next)
		e := &evs[i]
		if sameAuditID(en.AuditID, e.AuditID) && en.Stage == e.Stage && en.Time.Equal(e.StageTime) {
			l.ids[i] = next
			next++
		}
	}
}

// sameAuditID compares as the store does: a UUID whatever its case (the
// store keeps its 16 bytes and prints it in lower case), others exactly.
func sameAuditID(stored, id string) bool {
	return stored == id || len(id) == 36 && strings.EqualFold(stored, id)
}

// none is the ID of an event that was a duplicate.
const none = ^store.ID(0)
