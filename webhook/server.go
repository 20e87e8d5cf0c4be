package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Config is how a Server listens, authenticates and reports. Files are
// read by NewServer; a zero duration means the default next to it.
type Config struct {
	CertFile, KeyFile string   // serving certificate and key (PEM); none: plain HTTP
	ClientCA          string   // verify client certificates against this CA (PEM; needs TLS)
	ClientNames       []string // with ClientCA: accept only these CNs or SANs
	TokenFile         string   // require "Authorization: Bearer TOKEN" with the token in this file

	MaxBody     int64 // 0 means DefaultMaxBody
	MaxBuffered int64 // 0 means max(DefaultMaxBuffered, 2*MaxBody)
	MaxRequests int   // 0 means DefaultMaxRequests
	Queue       int   // 0 means DefaultQueue

	ReadHeaderTimeout time.Duration // 10 s
	ReadTimeout       time.Duration // 1 min
	WriteTimeout      time.Duration // 90 s
	IdleTimeout       time.Duration // 2 min
	ShutdownWait      time.Duration // 5 s: how long requests in flight get at stop

	StateDir   string        // where the counters are written for kaudit status ("": nowhere)
	StatsEvery time.Duration // 1 s
	Log        io.Writer     // net/http's errors and failures to write the counters (nil: discarded)
}

// Server is the receiver behind an HTTP(S) listener: TLS, client
// certificates and bearer tokens, the http.Server's timeouts, the counters
// written on a ticker, and the shutdown order.
//
// Goroutines: Serve runs once; Receiver's own rules apply to it (its Run is
// the caller's, or the spool file is followed instead).
type Server struct {
	Receiver *Receiver
	cfg      Config
	tls      *tls.Config
}

// NewServer reads cfg's files (certificates, token) and builds the
// receiver. The caller may still set the receiver's Spool and OnProblem
// before serving.
func NewServer(cfg Config) (*Server, error) {
	auth := &Auth{ClientCert: cfg.ClientCA != "", Names: cfg.ClientNames}
	if cfg.TokenFile != "" {
		if err := auth.ReadTokenFile(cfg.TokenFile); err != nil {
			return nil, fmt.Errorf("--token-file: %v", err)
		}
	}
	s := &Server{cfg: cfg, Receiver: &Receiver{MaxBody: cfg.MaxBody, MaxBuffered: cfg.MaxBuffered, MaxRequests: cfg.MaxRequests, Queue: cfg.Queue}}
	if auth.Authenticates() {
		s.Receiver.Auth = auth
	}
	if cfg.CertFile != "" {
		var err error
		if s.tls, err = ServerTLS(cfg.CertFile, cfg.KeyFile, cfg.ClientCA); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// URL is the address clients use for ln: https with TLS, http without.
func (s *Server) URL(ln net.Listener) string {
	if s.tls != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// Serve answers requests on ln (wrapped in TLS when configured) until ctx
// ends or the listener fails, writing the counters every StatsEvery. At
// stop the listener closes first and requests in flight are answered (at
// most ShutdownWait), then the counters are written a last time. Serve
// does not run the Receiver: whoever consumes its batches stops it after
// Serve returned, so that no request in flight is refused for want of a
// consumer.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	url := s.URL(ln)
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	srv := s.httpServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	stopStats := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.statsLoop(url, stopStats) })

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), cmpDur(s.cfg.ShutdownWait, 5*time.Second))
	defer cancel()
	srv.Shutdown(sctx)
	close(stopStats)
	wg.Wait()
	s.saveStats(url)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) httpServer() *http.Server {
	w := s.cfg.Log
	if w == nil {
		w = io.Discard
	}
	return &http.Server{
		Handler:           s.Receiver,
		ReadHeaderTimeout: cmpDur(s.cfg.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       cmpDur(s.cfg.ReadTimeout, time.Minute),
		WriteTimeout:      cmpDur(s.cfg.WriteTimeout, 90*time.Second),
		IdleTimeout:       cmpDur(s.cfg.IdleTimeout, 2*time.Minute),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(&serverLog{w: w, rcv: s.Receiver}, "kaudit serve: ", 0),
	}
}

// statsLoop writes the counters every StatsEvery until stop is closed.
func (s *Server) statsLoop(url string, stop <-chan struct{}) {
	tick := time.NewTicker(cmpDur(s.cfg.StatsEvery, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.saveStats(url)
			s.Receiver.FlushSuppressed()
		case <-stop:
			return
		}
	}
}

func (s *Server) saveStats(url string) {
	if s.cfg.StateDir == "" {
		return
	}
	st := s.Receiver.Stats()
	st.Listen = url
	if err := SaveStats(s.cfg.StateDir, st); err != nil && s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "kaudit serve: writing the receiver's counters: %v\n", err)
	}
}

// serverLog is where net/http's server logs go: on to w, counting failed
// TLS handshakes (a client certificate from another CA, plain HTTP on the
// TLS port) as rejected requests.
type serverLog struct {
	w   io.Writer
	rcv *Receiver
}

func (l *serverLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		l.rcv.CountRejected(ReasonHandshake)
	}
	return l.w.Write(p)
}
