package vlogs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// Tail follows VictoriaLogs' live tail (/select/logsql/tail): records
// ingested from now on (History before now, when set) that match the
// push-down. When the answer ends or the connection drops (VictoriaLogs
// restarted, a proxy timed out), it reconnects with backoff and asks again
// from shortly before the newest event it handed on; the store drops the
// events read twice (same auditID, stage and stageTimestamp). Run is
// called once, from the pipeline's writer goroutine.
type Tail struct {
	Push    Pushdown
	History time.Duration // records up to this far back first (0: none)
	OnBad   func(err error)
	// OnGap hears, a line each, that the tail was lost and that it is back
	// (with how long it was away and from when it read again); nil: not
	// told.
	OnGap func(msg string)
	c     *client
}

// tailDelay is how long VictoriaLogs holds records back before tailing
// them (its offset argument): long enough for a record sent a moment
// ago to be searchable, short enough to show events within about a second.
const tailDelay = "500ms"

// Reconnection: the first retry after tailBackoff, doubling up to
// tailBackoffMax; a resumed tail reads again from tailOverlap before the
// newest event handed on (a Datadog record's time is cut to the
// millisecond, and records of the same instant may have been cut off).
//
// VictoriaLogs' tail sends a record only if it arrives within about 5 s
// of its _time and after no later record of its stream was sent. The
// forwarders send what they kept while VictoriaLogs was down once it is
// back, often later than that; so after a reconnect the tail is opened
// again, from the same point, tailSweeps after it (the store drops what
// is read twice).
var (
	tailBackoff    = 500 * time.Millisecond
	tailBackoffMax = 30 * time.Second
	tailOverlap    = 2 * time.Second
	tailSweeps     = []time.Duration{5 * time.Second, 15 * time.Second, 45 * time.Second}
)

// Follow returns the live tail with s's server, auth and push-down.
func (s *Source) Follow(history time.Duration) *Tail {
	return &Tail{Push: s.Push, History: history, OnBad: s.OnBad, c: s.c}
}

// emitError is an error of the consumer: it ends the tail.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }

// errSweep ends a tail answer to open it again from the gap's start.
var errSweep = errors.New("sweep")

// Run hands on records as they arrive, a batch whenever no more are
// waiting in the answer, until ctx is cancelled or emit fails; a lost
// tail is reconnected (see Tail).
func (t *Tail) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	r := &reader{emit: emit, raw: ingest.NewSpool(), onBad: t.OnBad}
	defer func() { r.raw.Close() }()   // flush may have started another
	from := time.Now().Add(-t.History) // where an answer starts
	wait := tailBackoff
	var lost time.Time
	sweep := len(tailSweeps) // the next sweep; none is due before a loss
	ever := false            // connected once: until then an error is the user's to see
	for {
		back := func() {
			ever = true
			if !lost.IsZero() {
				t.gap(fmt.Sprintf("VictoriaLogs live tail back after %v; reading again from %s (events read twice are dropped)",
					time.Since(lost).Round(100*time.Millisecond), from.UTC().Format(time.RFC3339)))
				lost = time.Time{}
			}
			wait = tailBackoff
		}
		var until time.Duration
		if sweep < len(tailSweeps) {
			until = tailSweeps[sweep]
		}
		err := t.follow(ctx, r, time.Since(from), until, back)
		var ee emitError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &ee):
			return ee.err
		case !ever:
			return fmt.Errorf("VictoriaLogs tail: %w", err)
		case errors.Is(err, errSweep):
			sweep++
			continue
		}
		if sweep >= len(tailSweeps) && r.newest.After(from) {
			from = r.newest.Add(-tailOverlap) // else the gap is not swept yet: from stays
		}
		sweep = 0
		if lost.IsZero() {
			lost = time.Now()
			t.gap(fmt.Sprintf("VictoriaLogs live tail lost: %v; reconnecting", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, tailBackoffMax)
	}
}

func (t *Tail) gap(msg string) {
	if t.OnGap != nil {
		t.OnGap(msg)
	}
}

// follow reads one live-tail answer, from back (as start_offset) on,
// for until (0: as long as it lasts); connected is called once the server
// answered. It returns why the answer ended: errSweep, the server or the
// connection (reconnect), or an emitError.
func (t *Tail) follow(ctx context.Context, r *reader, back, until time.Duration, connected func()) error {
	args := url.Values{
		"query":            {t.Push.Query(time.Time{}, time.Time{}) + " | fields " + fields},
		"offset":           {tailDelay},
		"refresh_interval": {"200ms"},
	}
	if back > time.Second {
		args.Set("start_offset", back.Round(time.Millisecond).String())
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if until > 0 {
		defer time.AfterFunc(until, func() { cancel(errSweep) }).Stop()
	}
	body, err := t.c.post(ctx, "/select/logsql/tail", args)
	if err != nil {
		return err
	}
	defer body.Close()
	connected()
	go func() { <-ctx.Done(); body.Close() }() // unblocks the read
	br := bufio.NewReaderSize(body, 1<<20)
	var p recordParser
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the live tail")
			}
			if ferr := r.flush(); ferr != nil {
				return emitError{ferr}
			}
			if context.Cause(ctx) == errSweep {
				return errSweep
			}
			return err
		}
		r.lines++
		rec, err := p.parse(line)
		if err != nil {
			if t.OnBad != nil {
				t.OnBad(fmt.Errorf("live tail, line %d: %v", r.lines, err))
			}
			continue
		}
		if err := r.add(rec.Msg, r.sourceOf(&rec)); err != nil {
			return emitError{err}
		}
		if br.Buffered() == 0 {
			if err := r.flush(); err != nil {
				return emitError{err}
			}
		}
	}
}

// readLine reads one line of at most maxRecord bytes (without its \n).
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == nil {
		return line[:len(line)-1], nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	buf := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= maxRecord {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
	}
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = fmt.Errorf("a record over %d bytes", maxRecord)
		}
		return nil, err
	}
	return buf[:len(buf)-1], nil
}
