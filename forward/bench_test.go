package forward

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func benchEncode(b *testing.B, p protocol) {
	recs := records(b, 0, 1000)
	var raw, gz int
	for b.Loop() {
		body, err := p.encode(recs)
		if err != nil {
			b.Fatal(err)
		}
		z, err := gzipped(body)
		if err != nil {
			b.Fatal(err)
		}
		raw, gz = len(body), len(z)
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(raw)/float64(len(recs)), "bytes/event")
	b.ReportMetric(float64(gz)/float64(len(recs)), "gzbytes/event")
}

// BenchmarkEncodeOTLP: 1000 events to a gzipped ExportLogsServiceRequest.
func BenchmarkEncodeOTLP(b *testing.B) { benchEncode(b, otlp{id: testID}) }

// BenchmarkEncodeDatadog: 1000 events to a gzipped v2 intake payload.
func BenchmarkEncodeDatadog(b *testing.B) { benchEncode(b, datadog{id: testID, key: "k"}) }

// BenchmarkForwardOTLP: events through a Forwarder to a loopback receiver
// that accepts everything (batches of 512, as the tail hands them on).
func BenchmarkForwardOTLP(b *testing.B) {
	in := newIntake(b, func(int, []byte, http.ResponseWriter) {})
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID})
	if err != nil {
		b.Fatal(err)
	}
	recs := records(b, 0, 512)
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		if err := f.Enqueue(ctx, recs, n); err != nil {
			b.Fatal(err)
		}
		n++
	}
	drain(b, f) // every event acknowledged
	b.ReportMetric(float64(512*n)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkForwardRTT40ms: a live log's batches of 1-3 events through a
// Forwarder with its default senders, to a loopback receiver that takes
// 40 ms per request (a WAN intake). events/s counts until every event was
// acknowledged.
func BenchmarkForwardRTT40ms(b *testing.B) {
	for _, scheme := range []string{"otlp+http", "datadog"} {
		b.Run(scheme, func(b *testing.B) {
			in := newIntake(b, func(int, []byte, http.ResponseWriter) { time.Sleep(40 * time.Millisecond) })
			in.discard = true
			cfg := Config{Identity: testID}
			f, err := New(sinkURL(b, scheme, in, &cfg), cfg)
			if err != nil {
				b.Fatal(err)
			}
			batches := liveBatches(records(b, 0, 6000))
			ctx := context.Background()
			n, events := 0, 0
			start := time.Now()
			for b.Loop() {
				batch := batches[n%len(batches)]
				if err := f.Enqueue(ctx, batch, n); err != nil {
					b.Fatal(err)
				}
				n++
				events += len(batch)
			}
			drain(b, f)
			b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(events)/float64(in.count()), "events/request")
		})
	}
}
