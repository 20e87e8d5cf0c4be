package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// Defaults of a Receiver's limits.
const (
	DefaultMaxBody     = 64 << 20 // bytes of one request body, after gzip decompression too
	DefaultMaxRequests = 16       // requests handled at once; more get 429
	DefaultQueue       = 16       // batches waiting for the consumer (memory mode)
	DefaultQueueWait   = time.Second
)

// SourceName is the source name of the events a Receiver hands on, and the
// Path of its batches' positions.
const SourceName = "webhook"

// Receiver receives kube-apiserver's audit webhook: POSTed audit.k8s.io
// EventList bodies (v1 or v1beta1; or a single Event), gzip-encoded or not.
// It is an http.Handler; /healthz answers "ok" to anyone.
//
// It answers 200 only for events it has taken: in memory mode (Spool nil)
// after the consumer (Run's emit) returned for the batch; with a Spool after
// the events were written to it and fsynced. A body over MaxBody gets 413,
// a malformed one 400 with the reason, a request without valid credentials
// 401; when the consumer is behind (the queue stays full for QueueWait) or
// MaxRequests requests are already being handled, 429 with Retry-After, so
// that the API server retries. Every rejection is counted by reason (Stats)
// and reported through OnProblem.
//
// Goroutines: configure it, then serve requests (any number of goroutines)
// and, in memory mode, call Run once. Stats may be called at any time.
type Receiver struct {
	MaxBody     int64         // 0 means DefaultMaxBody
	MaxBuffered int64         // body bytes held by all requests together; 0 means max(DefaultMaxBuffered, 2*MaxBody)
	MaxRequests int           // 0 means DefaultMaxRequests
	Queue       int           // 0 means DefaultQueue
	QueueWait   time.Duration // 0 means DefaultQueueWait
	Auth        *Auth         // nil: no authentication (loopback only; the caller decides)
	Spool       *SpoolFile    // nil: memory mode, hand batches to Run's emit
	OnProblem   func(ingest.Problem)

	once     sync.Once
	buffered budget
	lines    lineLimiter // problem lines of flooding rejections: one per second per reason
	sem      chan struct{}
	queue    chan *pending
	done     chan struct{} // closed when Run returns
	stats    statsKeeper
}

// pending is one accepted body waiting for the consumer.
type pending struct {
	events []audit.Event
	ack    chan error // capacity 1
}

func (w *Receiver) init() {
	w.once.Do(func() {
		w.sem = make(chan struct{}, cmp0(w.MaxRequests, DefaultMaxRequests))
		w.queue = make(chan *pending, cmp0(w.Queue, DefaultQueue))
		w.done = make(chan struct{})
		w.buffered.max = w.MaxBuffered
		if w.buffered.max <= 0 {
			w.buffered.max = max(DefaultMaxBuffered, 2*w.maxBody()+2)
		}
		w.lines.init(time.Second)
		w.stats.init()
	})
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (w *Receiver) maxBody() int64 {
	if w.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return w.MaxBody
}

// Run hands the events of accepted requests to emit, in batches of at most
// ingest.MaxBatch (a request is answered after its last), until ctx is cancelled; requests still waiting then get 503. Their
// original bytes are kept in an in-memory Spool (the batches' Raw), one
// line per event. Only needed in memory mode; with a Spool the spool file
// is the source (follow it with a Tail).
func (w *Receiver) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	w.init()
	defer close(w.done)
	raw := ingest.NewSpool()
	defer func() { raw.Close() }() // ReadAt keeps working for the store
	var line int64
	fail := func(err error) {
		for {
			select {
			case p := <-w.queue:
				p.ack <- err
			default:
				return
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			fail(errStopping)
			return ctx.Err()
		case p := <-w.queue:
			if raw.Size() >= memorySpoolSize {
				// A new spool now and then, so that retention can release
				// the old ones once it dropped their events (one spool
				// for the whole run would hold every event ever received).
				raw.Close()
				raw = ingest.NewSpool()
			}
			offsets := make([]int64, len(p.events))
			for i := range p.events {
				e := &p.events[i]
				e.Raw = oneLine(e.Raw)
				offsets[i] = raw.Size()
				raw.Write(e.Raw)
				raw.Write(newline)
			}
			// Batches of at most ingest.MaxBatch events; the request is
			// acknowledged after the last.
			var err error
			for i := 0; i < len(p.events) && err == nil; i += ingest.MaxBatch {
				j := min(i+ingest.MaxBatch, len(p.events))
				line += int64(j - i)
				end := raw.Size()
				if j < len(p.events) {
					end = offsets[j]
				}
				err = emit(ingest.Batch{Events: p.events[i:j:j], Offsets: offsets[i:j:j], Raw: raw, Pos: ingest.Position{Path: SourceName, Offset: end, Line: line}})
			}
			p.ack <- err
			if err != nil {
				fail(errStopping)
				return err
			}
		}
	}
}

// memorySpoolSize is how many bytes of events Run keeps in one in-memory
// spool before it starts another: about one store chunk's worth (65536
// events of a bit over 1 KB), the unit retention drops.
var memorySpoolSize int64 = 64 << 20

var (
	newline     = []byte{'\n'}
	errStopping = errors.New("receiver stopping")
)

// oneLine returns raw compacted if it spans lines (a pretty-printed body),
// so that every event is one line of a spool.
func oneLine(raw []byte) []byte {
	if !bytes.ContainsAny(raw, "\r\n") {
		return raw
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.Bytes()
	}
	return raw
}

// CountRejected counts a request refused before it reached the handler,
// such as a failed TLS handshake (ReasonHandshake).
func (w *Receiver) CountRejected(reason string) {
	w.init()
	w.stats.reject(reason)
}

// Stats is a snapshot of the counters.
func (w *Receiver) Stats() Stats {
	w.init()
	return w.stats.snapshot()
}

// ServeHTTP implements http.Handler.
func (w *Receiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.init()
	if r.URL.Path == "/healthz" {
		rw.Header().Set("Content-Type", "text/plain")
		io.WriteString(rw, "ok\n")
		return
	}
	sender, ok := w.admit(rw, r)
	if !ok {
		return
	}
	defer func() { <-w.sem }()
	body, held, err := w.readBody(rw, r)
	defer held.release()
	if err != nil {
		var tl *tooLargeError
		var ne net.Error
		switch {
		case errors.Is(err, errBuffersFull):
			rw.Header().Set("Retry-After", "1")
			w.reject(rw, sender, http.StatusTooManyRequests, ReasonBuffersFull, ingest.Rejected, err.Error())
		case errors.As(err, &tl):
			w.reject(rw, sender, http.StatusRequestEntityTooLarge, ReasonTooLarge, ingest.TooLong, tl.Error())
		case errors.As(err, &ne) && ne.Timeout():
			w.reject(rw, sender, http.StatusRequestTimeout, ReasonTimeout, ingest.Rejected, "reading the body: "+err.Error())
		default:
			w.reject(rw, sender, http.StatusBadRequest, ReasonMalformed, ingest.Unreadable, "reading the body: "+err.Error())
		}
		return
	}
	events, bad, err := decodeBody(body)
	if err != nil {
		kind, msg := ingest.DecodeProblem(err)
		w.reject(rw, sender, http.StatusBadRequest, ReasonMalformed, kind, msg)
		return
	}
	if len(bad) > 0 {
		// Bad items are refused and named; the good ones are taken (a 400
		// would make the API server drop them too, and the bad ones can
		// never be taken). Nothing refused is in the spool, so nothing
		// answered 200 is rejected by its reader later.
		w.stats.rejectItems(int64(len(bad)))
		w.problem(sender, ingest.Unrecognised, badItemsMsg(bad, len(events)))
		if len(events) == 0 {
			w.stats.reject(ReasonMalformed)
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusBadRequest)
			rw.Write(answerItems(0, bad))
			return
		}
	}
	if status, err := w.take(r.Context(), events); err != nil {
		if status == http.StatusTooManyRequests {
			rw.Header().Set("Retry-After", "1")
		}
		w.reject(rw, sender, status, reasonOf(status), ingest.Rejected, err.Error())
		return
	}
	w.stats.accepted(sender, len(events), len(body))
	rw.Header().Set("Content-Type", "application/json")
	if len(bad) > 0 {
		rw.Write(answerItems(len(events), bad))
		return
	}
	fmt.Fprintf(rw, `{"accepted":%d}`+"\n", len(events))
}

// admit checks the method and the credentials and takes one of the
// MaxRequests slots (the caller gives it back); otherwise it answers.
func (w *Receiver) admit(rw http.ResponseWriter, r *http.Request) (sender string, ok bool) {
	from := remoteIP(r)
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		w.reject(rw, from, http.StatusMethodNotAllowed, ReasonMethod, ingest.Unrecognised, "method "+r.Method+" (want POST)")
		return "", false
	}
	sender, status, why := w.Auth.check(r)
	if status != 0 {
		if status == http.StatusUnauthorized {
			rw.Header().Set("WWW-Authenticate", `Bearer realm="kaudit"`)
			w.reject(rw, from, status, ReasonUnauthenticated, ingest.Rejected, why)
		} else {
			w.reject(rw, from, status, ReasonForbidden, ingest.Rejected, why)
		}
		return "", false
	}
	if sender == "" {
		sender = from
	}
	select {
	case w.sem <- struct{}{}:
		return sender, true
	default:
		rw.Header().Set("Retry-After", "1")
		w.reject(rw, sender, http.StatusTooManyRequests, ReasonBusy, ingest.Rejected, "too many requests at once; retry")
		return "", false
	}
}

// take hands events on: to the spool (written and fsynced), or to Run's
// consumer, waiting for it to return. On failure it returns the status to
// answer.
func (w *Receiver) take(ctx context.Context, events []audit.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	if w.Spool != nil {
		if err := w.Spool.Append(events); err != nil {
			return http.StatusServiceUnavailable, fmt.Errorf("spool: %v", err)
		}
		return 0, nil
	}
	p := &pending{events: events, ack: make(chan error, 1)}
	select {
	case w.queue <- p:
	case <-w.done:
		return http.StatusServiceUnavailable, errStopping
	default:
		t := time.NewTimer(cmpDur(w.QueueWait, DefaultQueueWait))
		defer t.Stop()
		select {
		case w.queue <- p:
		case <-w.done:
			return http.StatusServiceUnavailable, errStopping
		case <-t.C:
			return http.StatusTooManyRequests, errors.New("consumer behind: queue full; retry")
		case <-ctx.Done():
			return http.StatusServiceUnavailable, ctx.Err()
		}
	}
	select {
	case err := <-p.ack:
		return ackStatus(err)
	case <-w.done:
		select {
		case err := <-p.ack:
			return ackStatus(err)
		default:
			return http.StatusServiceUnavailable, errStopping
		}
	}
}

func ackStatus(err error) (int, error) {
	if err != nil {
		return http.StatusServiceUnavailable, err
	}
	return 0, nil
}

func cmpDur(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Rejection reasons, as counted in Stats.Rejected.
const (
	ReasonUnauthenticated = "unauthenticated"
	ReasonForbidden       = "forbidden"
	ReasonMethod          = "method"
	ReasonTooLarge        = "too_large"
	ReasonMalformed       = "malformed"
	ReasonBusy            = "busy"
	ReasonBuffersFull     = "buffers_full" // --max-buffered reached: 429
	ReasonTimeout         = "timeout"
	ReasonHandshake       = "tls_handshake"
	ReasonUnavailable     = "unavailable"
)

func reasonOf(status int) string {
	if status == http.StatusTooManyRequests {
		return ReasonBusy
	}
	return ReasonUnavailable
}

// reject answers status with why, counts it and reports it.
func (w *Receiver) reject(rw http.ResponseWriter, sender string, status int, reason string, kind ingest.ProblemKind, why string) {
	w.stats.reject(reason)
	if ok, held := w.lines.allow(reason); ok {
		msg := fmt.Sprintf("%d %s: %s", status, http.StatusText(status), why)
		if held > 0 {
			msg += fmt.Sprintf(" (and %d more like it before, not shown one by one)", held)
		}
		w.problem(sender, kind, msg)
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if status == http.StatusRequestEntityTooLarge || status == http.StatusBadRequest || status == http.StatusRequestTimeout {
		// Do not read the rest of a refused body.
		rw.Header().Set("Connection", "close")
	}
	rw.WriteHeader(status)
	io.WriteString(rw, why+"\n")
}

func (w *Receiver) problem(sender string, kind ingest.ProblemKind, msg string) {
	if w.OnProblem != nil {
		w.OnProblem(ingest.Problem{Path: SourceName + " from " + sender, Kind: kind, Msg: msg})
	}
}

func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
