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
// push-down. Run is called once, from the pipeline's writer goroutine.
type Tail struct {
	Push    Pushdown
	History time.Duration // records up to this far back first (0: none)
	OnBad   func(err error)
	c       *client
}

// tailDelay is how long VictoriaLogs holds records back before tailing
// them (its offset argument): long enough for a record sent a moment
// ago to be searchable, short enough to show events within about a second.
const tailDelay = "500ms"

// Follow returns the live tail with s's server, auth and push-down.
func (s *Source) Follow(history time.Duration) *Tail {
	return &Tail{Push: s.Push, History: history, OnBad: s.OnBad, c: s.c}
}

// Run hands on records as they arrive, a batch whenever no more are
// waiting in the answer, until ctx is cancelled or the server ends the
// answer (an error: the tail stopped).
func (t *Tail) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	args := url.Values{
		"query":            {t.Push.Query(time.Time{}, time.Time{}) + " | fields " + fields},
		"offset":           {tailDelay},
		"refresh_interval": {"200ms"},
	}
	if t.History > 0 {
		args.Set("start_offset", t.History.String())
	}
	body, err := t.c.post(ctx, "/select/logsql/tail", args)
	if err != nil {
		return err
	}
	defer body.Close()
	go func() { <-ctx.Done(); body.Close() }() // unblocks the read
	r := &reader{emit: emit, raw: ingest.NewSpool(), onBad: t.OnBad}
	defer r.raw.Close()
	br := bufio.NewReaderSize(body, 1<<20)
	var p recordParser
	for {
		line, err := readLine(br)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the live tail")
			}
			return fmt.Errorf("VictoriaLogs tail: %w", errors.Join(err, r.flush()))
		}
		r.lines++
		rec, err := p.parse(line)
		if err != nil {
			return fmt.Errorf("VictoriaLogs tail, line %d: %v", r.lines, err)
		}
		if err := r.add(rec.Msg, r.sourceOf(&rec)); err != nil {
			return err
		}
		if br.Buffered() == 0 {
			if err := r.flush(); err != nil {
				return err
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
