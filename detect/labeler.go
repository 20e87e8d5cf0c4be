package detect

import (
	"context"
	"io"

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
}

// LabelWindow is how many events a Labeler keeps to look back on.
const LabelWindow = 8192

// Labeler returns a labeler over e. e's threshold state becomes the
// labeler's: do not use e for anything else.
func (e *Engine) Labeler() *Labeler {
	st := store.New(store.ChunkEvents(1024))
	return &Labeler{st: st, live: e.Live(st)}
}

// Label returns, for each event of evs, the names of the rules it hit, in
// the pack's order (nil for none). raw and offsets are where the events'
// bytes are (ingest.Batch's Raw and Offsets): the rules' jq reads them. An
// event that repeats one already seen (same auditID, stage and time) gets
// none, as the store and the UI keep one copy.
func (l *Labeler) Label(ctx context.Context, evs []audit.Event, raw io.ReaderAt, offsets []int64) ([][]string, error) {
	const none = ^store.ID(0)
	ids := make([]store.ID, len(evs))
	for i := range evs {
		ids[i] = store.ID(l.st.Len())
		if l.st.Append(evs[i:i+1], raw, offsets[i:i+1]).Added == 0 {
			ids[i] = none
		}
	}
	hits, err := l.live.Eval(ctx, l.st)
	l.st.Retain(LabelWindow, 0)
	if err != nil {
		return nil, err
	}
	byID := map[store.ID][]string{}
	for _, h := range hits { // sorted by event, then rule order
		byID[h.ID] = append(byID[h.ID], h.Rule.Name)
	}
	out := make([][]string, len(evs))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}
