package query

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/termsafe"
)

// Program is a jq program run on each kept event (--jq), compiled once
// with kaudit's helpers and no environment access.
type Program struct {
	text string
	code *gojq.Code
}

// CompileProgram compiles a --jq program. Errors are *SyntaxError.
func CompileProgram(text string) (*Program, error) {
	code, err := compileText(text, sourceDef, jqOptions)
	if err != nil {
		return nil, err
	}
	return &Program{text: text, code: code}, nil
}

// EventError is a jq error raised on one event.
type EventError struct {
	ID  store.ID
	Err error

	st *store.Store // where ID is: Error names the event by its auditID
}

// Error names the event by its auditID and stage, which the operator can
// find in the log, where the ID would depend on what else the store holds
// (a headless filter stores only the events it may print).
func (e *EventError) Error() string {
	if e.st == nil {
		return fmt.Sprintf("event %d: %v", e.ID, e.Err)
	}
	en := e.st.Entry(e.ID)
	if en.AuditID != "" {
		return fmt.Sprintf("event %s (%v): %v", termsafe.Printable(en.AuditID), en.Stage, e.Err)
	}
	at := "no time"
	if !en.Time.IsZero() {
		at = en.Time.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("event without an auditID (%s, %s): %v", termsafe.Printable(en.Source), at, e.Err)
}
func (e *EventError) Unwrap() error { return e.Err }

// WriteJQ runs p on the original JSON object of every event of events, in
// ID order, and writes each output on its own line as `jq -c` does. An
// error raised on an event ends that event's outputs and is passed to
// onError; the other events still run. It returns early on ctx's error or
// when writing fails.
func WriteJQ(ctx context.Context, w io.Writer, st *store.Store, events *store.Set, p *Program, onError func(*EventError)) error {
	bud := newBudget(ctx, 1)
	defer bud.stop()
	if err := writeJQ(bud, w, st, events, p, onError); err != nil {
		if berr := bud.err(); berr != nil {
			return berr
		}
		return err
	}
	return bud.err()
}

// writeJQ is WriteJQ within a budget's context.
func writeJQ(bud *jqBudget, w io.Writer, st *store.Store, events *store.Set, p *Program, onError func(*EventError)) error {
	ctx := bud.ctx
	bw := bufio.NewWriterSize(w, 1<<16)
	rr := st.NewRawReader()
	var missing *store.UnreadableError
	it := events.Iterator()
	for it.HasNext() {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := it.Next()
		raw, err := rr.Raw(id)
		if err != nil {
			// Its file changed after it was read: skip it, say so at the end.
			missing = missing.Note(fmt.Errorf("event %d: %w", id, err))
			continue
		}
		// The program sees the event as printed: redacted (filters, which
		// run before, see the original).
		v, err := DecodeJSON(redact.Output(raw))
		if err != nil {
			onError(&EventError{ID: id, Err: err, st: st})
			continue
		}
		bud.begin(0)
		iter := p.code.RunWithContext(ctx, v, st.Source(id))
		for {
			out, ok := iter.Next()
			if !ok {
				break
			}
			if err, isErr := out.(error); isErr {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				onError(&EventError{ID: id, Err: err, st: st})
				break
			}
			b, err := gojq.Marshal(out)
			if err != nil {
				onError(&EventError{ID: id, Err: err, st: st})
				break
			}
			// Writing may block on a slow reader (a pager): not the program's time.
			bud.end(0)
			bw.Write(termsafe.JSON(b))
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
			bud.begin(0)
		}
		bud.end(0)
	}
	if err := bw.Flush(); err != nil || missing == nil {
		return err
	}
	return missing
}
