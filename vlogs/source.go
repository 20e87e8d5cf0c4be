// Package vlogs reads back what kaudit forwarded to VictoriaLogs: a
// pipeline Source over LogsQL queries. Events are decoded from each
// record's body (the original audit event bytes), so every view equals
// the view over the original files. The filter's quick terms and time
// range are pushed down into LogsQL (see Pushdown); the filter itself is
// still evaluated on what comes back.
package vlogs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
)

// DefaultPageEvents is about how many events one query page returns: a
// page is sorted by time on the server, so this bounds its memory there.
const DefaultPageEvents = 100_000

// maxRecord bounds one response line (a record's body JSON-escaped
// once more, plus its fields).
const maxRecord = 64 << 20

// Source is a read of one VictoriaLogs server: pages of time, oldest
// first, each streamed and sorted by _time. Run is called once, from the
// pipeline's writer goroutine; BytesRead may be read from any goroutine.
type Source struct {
	Push       Pushdown
	PageEvents int       // 0: DefaultPageEvents
	Progress   io.Writer // a progress line per page (nil: none)
	// OnBad hears of records whose body is not an audit event.
	OnBad func(err error)

	c *client
}

// New returns a source reading base (http[s]://HOST:PORT, see BaseURL).
// hc may be nil (a client made from auth's CA file).
func New(base string, auth Auth, push Pushdown, hc *http.Client) (*Source, error) {
	c, err := newClient(base, auth, hc)
	if err != nil {
		return nil, err
	}
	return &Source{Push: push, c: c}, nil
}

// BytesRead is how many response bytes were read so far.
func (s *Source) BytesRead() int64 { return s.c.bytes.Load() }

// span is what the stats query says of the selected records.
type span struct {
	t0, t1 time.Time
	n      int64
}

// Run reads every selected record, page by page, and hands the events to
// emit in batches of at most ingest.MaxBatch.
func (s *Source) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	sp, err := s.stats(ctx)
	if err != nil || sp.n == 0 {
		return err
	}
	per := int64(s.PageEvents)
	if per <= 0 {
		per = DefaultPageEvents
	}
	pages := (sp.n + per - 1) / per
	end := sp.t1.Add(time.Nanosecond) // the last page includes t1
	width := end.Sub(sp.t0) / time.Duration(pages)
	r := &reader{emit: emit, raw: ingest.NewSpool(), onBad: s.OnBad}
	defer func() { r.raw.Close() }() // ReadAt keeps working for the store
	for a := sp.t0; a.Before(end); {
		b := a.Add(max(width, time.Nanosecond))
		if b.After(end) || end.Sub(b) < width/2 {
			b = end
		}
		if err := s.page(ctx, r, a, b); err != nil {
			return err
		}
		if err := r.flush(); err != nil {
			return err
		}
		if s.Progress != nil {
			fmt.Fprintf(s.Progress, "kaudit: vlogs: %d/%d events, %.1f MB read (%d bytes)\n", r.events, sp.n, float64(s.BytesRead())/1e6, s.BytesRead())
		}
		a = b
	}
	if err := r.flush(); err != nil {
		return err
	}
	if got := r.events + r.bad; got < sp.n {
		// Fewer than counted: a storage node that did not answer, or
		// retention deleting data meanwhile. Said, never silently less.
		return fmt.Errorf("%w: read %d records, the server counted %d", ErrPartial, got, sp.n)
	}
	return nil
}

// ErrPartial: the pages held fewer records than the stats query counted.
var ErrPartial = errors.New("VictoriaLogs answered a partial result")

// stats asks for the time span and count of the selection.
func (s *Source) stats(ctx context.Context) (span, error) {
	q := s.Push.Query(s.Push.Since, s.Push.Until) + " | stats min(_time) t0, max(_time) t1, count() n"
	body, err := s.c.post(ctx, "/select/logsql/query", queryArgs(q))
	if err != nil {
		return span{}, err
	}
	defer body.Close()
	var row struct{ T0, T1, N string }
	if err := json.NewDecoder(body).Decode(&row); err != nil {
		return span{}, fmt.Errorf("%w: %v", errBadStats, err)
	}
	var sp span
	if sp.n, err = strconv.ParseInt(row.N, 10, 64); err != nil {
		return span{}, fmt.Errorf("%w: count %q", errBadStats, row.N)
	}
	if sp.n == 0 {
		return sp, nil
	}
	if sp.t0, err = time.Parse(time.RFC3339Nano, row.T0); err == nil {
		sp.t1, err = time.Parse(time.RFC3339Nano, row.T1)
	}
	if err != nil {
		return span{}, fmt.Errorf("%w: %v", errBadStats, err)
	}
	return sp, nil
}

// fields are the record fields read: the body and the source.
var fields = "_msg, _time, " + attrCluster + ", " + attrHost + ", " + ddAttrCluster + ", " + ddAttrHost + ", " + forward.AttrSource

// queryArgs are a query's arguments. A cluster whose select node runs
// with -search.allowPartialResponse answers 200 with what the storage
// nodes still up hold (its count too, so ErrPartial cannot see it):
// allow_partial_response=0 makes it fail instead, naming the node.
func queryArgs(q string) url.Values {
	return url.Values{"query": {q}, "allow_partial_response": {"0"}}
}

// page streams the records of [a, b), oldest first.
func (s *Source) page(ctx context.Context, r *reader, a, b time.Time) error {
	if !s.Push.Since.IsZero() && a.Before(s.Push.Since) {
		a = s.Push.Since
	}
	if !s.Push.Until.IsZero() && b.After(s.Push.Until) {
		b = s.Push.Until
	}
	q := s.Push.Query(a, b) + " | sort by (_time) | fields " + fields
	body, err := s.c.post(ctx, "/select/logsql/query", queryArgs(q))
	if err != nil {
		return err
	}
	defer body.Close()
	return r.read(body)
}

// reader decodes response lines into batches.
type reader struct {
	emit   func(ingest.Batch) error
	raw    *ingest.Spool
	onBad  func(error)
	evs    []audit.Event
	offs   []int64
	events int64
	lines  int64
	bad    int64 // records whose body was not an audit event

	spooled int64 // bytes of the spools before raw (see flush)

	lastKey    [4]string // sourceOf's last identity and source
	lastSource string
	newest     time.Time // the latest stageTimestamp read
}

// read decodes an answer. Splitting and unescaping the lines (a
// goroutine of its own) overlaps with decoding and storing the events
// (the caller's), which is about half the work each.
func (r *reader) read(body io.Reader) error {
	parsed := make(chan parsedChunk, 4)
	stop := make(chan struct{})
	defer close(stop) // the parser quits at its next send
	go parseLines(body, parsed, stop)
	for chunk := range parsed {
		for _, rec := range chunk.recs {
			r.lines++
			if err := r.add(rec.Msg, r.sourceOf(&rec)); err != nil {
				return err
			}
		}
		if chunk.err != nil {
			return fmt.Errorf("VictoriaLogs answer, line %d: %w", r.lines+1, chunk.err)
		}
	}
	return nil
}

// parsedChunk is a run of parsed records, and the error that ended the
// answer after them, if any.
type parsedChunk struct {
	recs []record
	err  error
}

// parseLines parses body's lines into chunks of records on out, which it
// closes at the end of body; it gives up once stop is closed.
func parseLines(body io.Reader, out chan<- parsedChunk, stop <-chan struct{}) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 1<<20), maxRecord)
	var chunk parsedChunk
	send := func() bool {
		select {
		case out <- chunk:
			chunk = parsedChunk{}
			return true
		case <-stop:
			return false
		}
	}
	var p recordParser
	for sc.Scan() {
		rec, err := p.parse(sc.Bytes())
		if err != nil {
			chunk.err = err
			send()
			return
		}
		chunk.recs = append(chunk.recs, rec)
		if len(chunk.recs) == 256 && !send() {
			return
		}
	}
	chunk.err = sc.Err()
	if len(chunk.recs) > 0 || chunk.err != nil {
		send()
	}
}

// sourceOf is rec.source(), without a new string per record.
func (r *reader) sourceOf(rec *record) string {
	if rec.Source != "" {
		return rec.Source
	}
	if k := [4]string{rec.Cluster, rec.Host, rec.DDCluster, rec.DDHost}; k != r.lastKey {
		r.lastKey, r.lastSource = k, rec.source()
	}
	return r.lastSource
}

// add decodes one body; its events' bytes go to the spool.
func (r *reader) add(msg []byte, source string) error {
	n := len(r.evs)
	evs, err := audit.Decode(msg, r.evs)
	if err != nil {
		r.bad++
		if r.onBad != nil {
			r.onBad(fmt.Errorf("record %d: %v", r.lines, err))
		}
	}
	r.evs = evs
	for i := n; i < len(r.evs); i++ {
		r.evs[i].Source = source
		if st := r.evs[i].StageTime; st.After(r.newest) {
			r.newest = st
		}
		r.offs = append(r.offs, r.raw.Size())
		r.raw.Write(r.evs[i].Raw)
		r.raw.Write([]byte{'\n'})
	}
	if len(r.evs) >= ingest.MaxBatch {
		return r.flush()
	}
	return nil
}

func (r *reader) flush() error {
	if len(r.evs) == 0 {
		return nil
	}
	r.events += int64(len(r.evs))
	b := ingest.Batch{Events: r.evs, Offsets: r.offs, Raw: r.raw,
		Pos: ingest.Position{Path: "vlogs", Offset: r.spooled + r.raw.Size(), Line: r.lines}}
	r.evs, r.offs = nil, nil // the store keeps the batch's slices
	if r.raw.Size() >= spoolSize {
		// A new spool now and then, so that retention can release the
		// old ones once it dropped their events: a live tail runs for
		// weeks, and one spool would hold every event it ever read.
		r.raw.Close()
		r.spooled += r.raw.Size()
		r.raw = ingest.NewSpool()
	}
	return r.emit(b)
}

// spoolSize is how many bytes of events a reader keeps in one spool
// before it starts another: about one store chunk's worth (65536 events of
// a bit over 1 KB), the unit retention drops.
var spoolSize int64 = 64 << 20
