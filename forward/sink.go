package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// verdict is what a response means for the records of its payload.
type verdict struct {
	kind       verdictKind
	rejected   int           // vOK: records the receiver rejected (partial success): counted as dropped, not resent
	msg        string        // why (for last error and the dead-letter file)
	retryAfter time.Duration // vRetry: the receiver's Retry-After, 0 if none
}

type verdictKind uint8

const (
	vOK    verdictKind = iota // delivered
	vRetry                    // try the same payload again, later
	vSplit                    // too large: send each half
	vDrop                     // permanent: dead-letter the records
)

// protocol is one receiver's wire format and response semantics.
type protocol interface {
	limits() (records, bytes int) // per payload, before compression
	contentType() string
	header(http.Header)
	encode([]Record) ([]byte, error)
	judge(status int, hdr http.Header, body []byte) verdict
}

// Backoff is the wait between attempts of one payload: Base doubled per
// attempt up to Max, with jitter (a random wait in [d/2, d]). A receiver's
// Retry-After is honoured instead, up to MaxRetryAfter.
type Backoff struct {
	Base, Max, MaxRetryAfter time.Duration
}

// DefaultBackoff: 500 ms, 1 s, 2 s … 30 s; Retry-After up to 5 minutes.
var DefaultBackoff = Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second, MaxRetryAfter: 5 * time.Minute}

func (b Backoff) wait(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, b.MaxRetryAfter)
	}
	d := b.Base << min(attempt, 30)
	if d <= 0 || d > b.Max {
		d = b.Max
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// target is a parsed --forward URL.
type target struct {
	name  string // the URL as shown (no credentials)
	url   string // where payloads are POSTed
	proto protocol
}

// parseTarget reads otlp+http://HOST:PORT[/PATH], otlp+https://…, and
// datadog://SITE.
func parseTarget(raw string, cfg *Config) (target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return target{}, fmt.Errorf("--forward %q: want otlp+http://HOST:PORT, otlp+https://HOST:PORT or datadog://SITE", raw)
	}
	u.User = nil
	t := target{name: u.String()}
	switch u.Scheme {
	case "otlp+http", "otlp+https", "otlp":
		scheme := "http"
		if u.Scheme == "otlp+https" {
			scheme = "https"
		}
		path := u.Path
		if path == "" || path == "/" {
			path = "/v1/logs"
		}
		t.url = (&url.URL{Scheme: scheme, Host: u.Host, Path: path}).String()
		t.proto = otlp{id: cfg.Identity}
	case "datadog":
		key := cfg.APIKey
		if key == "" {
			return target{}, fmt.Errorf("--forward %s: no API key (set DD_API_KEY or --api-key-file)", t.name)
		}
		t.url = "https://http-intake.logs." + u.Host + "/api/v2/logs"
		if cfg.Endpoint != "" {
			t.url = cfg.Endpoint
		}
		t.proto = datadog{id: cfg.Identity, key: key, tags: ddTags(cfg.Identity, cfg.Tags), strip: cfg.StripResponse}
	default:
		return target{}, fmt.Errorf("--forward %q: unknown scheme %q (want otlp+http, otlp+https or datadog)", raw, u.Scheme)
	}
	return t, nil
}

// httpClient is the client for cfg: system roots, or CAFile's.
func httpClient(cfg *Config) (*http.Client, error) {
	if cfg.Client != nil {
		return cfg.Client, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", cfg.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// deliver sends recs as as many payloads as the protocol's limits need,
// retrying each until it was delivered, rejected or dead-lettered. It
// fails only when ctx is done (then recs are not acknowledged).
func (f *Forwarder) deliver(ctx context.Context, recs []Record) error {
	maxN, _ := f.t.proto.limits()
	for len(recs) > 0 {
		n := min(len(recs), maxN)
		over := 0
		if _, ok := f.t.proto.(datadog); ok {
			for i := range recs[:n] {
				if len(recs[i].Event.Raw) > DatadogMaxEvent {
					over++
				}
			}
		}
		f.count(func(s *Stats) { s.Sent += int64(n); s.Oversize += int64(over) })
		if err := f.post(ctx, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// post sends one payload of recs (halving it while it is over the byte
// limit or the receiver says 413).
func (f *Forwarder) post(ctx context.Context, recs []Record) error {
	body, err := f.t.proto.encode(recs)
	if err != nil {
		f.deadLetter(recs, "encode: "+err.Error())
		return nil
	}
	if _, maxB := f.t.proto.limits(); len(body) > maxB && len(recs) > 1 {
		return f.halves(ctx, recs)
	}
	gz, err := gzipped(body)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		status, hdr, rbody, err := f.do(ctx, gz)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var v verdict
		if err != nil {
			v = verdict{kind: vRetry, msg: err.Error()}
		} else {
			v = f.t.proto.judge(status, hdr, rbody)
		}
		switch v.kind {
		case vOK:
			rej := min(v.rejected, len(recs))
			f.count(func(s *Stats) {
				s.Acked += int64(len(recs) - rej)
				s.Dropped += int64(rej)
				if v.msg != "" {
					s.setError(v.msg)
				}
			})
			return nil
		case vSplit:
			f.count(func(s *Stats) { s.setError(v.msg) })
			if len(recs) == 1 {
				f.deadLetter(recs, v.msg)
				return nil
			}
			return f.halves(ctx, recs)
		case vDrop:
			f.deadLetter(recs, v.msg)
			return nil
		}
		f.count(func(s *Stats) { s.Retried += int64(len(recs)); s.setError(v.msg) })
		if err := f.cfg.sleep(ctx, f.cfg.Backoff.wait(attempt, v.retryAfter)); err != nil {
			return err
		}
	}
}

func (f *Forwarder) halves(ctx context.Context, recs []Record) error {
	h := len(recs) / 2
	if err := f.post(ctx, recs[:h]); err != nil {
		return err
	}
	return f.post(ctx, recs[h:])
}

// do POSTs one gzipped payload and reads the response.
func (f *Forwarder) do(ctx context.Context, gz []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.t.url, bytes.NewReader(gz))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", f.t.proto.contentType())
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "kaudit")
	f.t.proto.header(req.Header)
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

func gzipped(p []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errClosed = errors.New("forward: closed")
