package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// Printer is the headless consumer (-o jsonl, --jq): each stored batch's
// kept events are printed as they arrive, their original bytes or their
// jq outputs, and flushed before the writer goes on, which acknowledges
// the batch: an event is printed before its position can be saved.
//
// Goroutines: the pipeline's writer only.
type Printer struct {
	Out    io.Writer      // where events go
	Errs   io.Writer      // where --jq errors go (the first ingest.DefaultReportLimit)
	Filter *query.Filter  // which events are printed
	JQ     *query.Program // if set, its outputs are printed instead of the events

	bw       *bufio.Writer
	jqErrors int
}

// print writes the kept events among [from, to) and flushes.
func (p *Printer) print(st *store.Store, from, to store.ID) error {
	if p.bw == nil {
		p.bw = bufio.NewWriterSize(p.Out, 1<<16)
	}
	cand := &store.Set{}
	cand.AddRange(uint64(from), uint64(to))
	// The batch is printed whole even when the pipeline is stopping: it
	// was stored, and its position may be saved.
	ctx := context.Background()
	kept, err := p.Filter.Eval(ctx, st, cand)
	if err != nil {
		return err
	}
	if p.JQ != nil {
		err = query.WriteJQ(ctx, p.bw, st, kept, p.JQ, func(ee *query.EventError) {
			if p.jqErrors++; p.jqErrors <= ingest.DefaultReportLimit {
				fmt.Fprintf(p.Errs, "kaudit: --jq: %v\n", ee)
			}
		})
	} else {
		err = views.WriteRaw(p.bw, st, kept, false)
	}
	var ue *store.UnreadableError
	if errors.As(err, &ue) {
		// The others were printed; following goes on.
		fmt.Fprintf(p.Errs, "kaudit: warning: %v\n", ue)
		err = nil
	}
	if err != nil {
		return err
	}
	return p.bw.Flush()
}
