// Command vlogsload bulk-loads generated audit events into VictoriaLogs
// through /insert/jsonline, in the record shape kaudit's OTLP sink gives
// (forward/otlp.go as VictoriaLogs stores it: the event as _msg, its
// stageTimestamp as _time, service.name/host.name/k8s.cluster.name as the
// stream, the k8s.audit.* attributes beside). It is how the README's
// 1M/10M-event query figures were made: forwarding 10M events through
// kaudit takes ~15 min here, this takes a few.
//
//	go run ./scripts/vlogsload -url http://127.0.0.1:9428 -n 1000000 [-seed 1] [-clusters 2] [-hosts 3]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/gen"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:9428", "VictoriaLogs")
	n := flag.Int("n", 1_000_000, "events")
	seed := flag.Uint64("seed", 1, "generator seed (each API server adds its index to it)")
	clusters := flag.Int("clusters", 2, "clusters")
	hosts := flag.Int("hosts", 3, "API servers per cluster")
	rate := flag.Float64("rate", 200, "events per second of each API server's generated clock")
	flag.Parse()
	start := time.Now()
	if err := load(*base, *n, *seed, *clusters, *hosts, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "vlogsload:", err)
		os.Exit(1)
	}
	d := time.Since(start)
	fmt.Printf("loaded %d events in %v (%.0f events/s)\n", *n, d.Round(time.Millisecond), float64(*n)/d.Seconds())
}

// load sends n events, spread over clusters×hosts generators, in batches.
func load(base string, n int, seed uint64, clusters, hosts int, rate float64) error {
	url := base + "/insert/jsonline?_stream_fields=service.name,host.name,k8s.cluster.name&_msg_field=_msg&_time_field=_time"
	batches := make(chan []byte, 4)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for b := range batches {
				if err := post(url, b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	type agent struct {
		g  *gen.Generator
		id forward.Identity
	}
	var agents []agent
	for c := range clusters {
		for h := range hosts {
			start := gen.DefaultStart.Add(-time.Duration(float64(n/(clusters*hosts))/rate) * time.Second)
			agents = append(agents, agent{
				g:  gen.New(gen.Config{Seed: seed + uint64(c*hosts+h), Start: start, EventsPerSecond: rate}),
				id: forward.Identity{Cluster: "cluster-" + strconv.Itoa(c), Host: "apiserver-" + strconv.Itoa(h)},
			})
		}
	}
	var buf bytes.Buffer
	var line []byte
	var evs []audit.Event
	for i := 0; i < n; i++ {
		a := agents[i%len(agents)]
		line = a.g.Next(line[:0])
		var err error
		if evs, err = audit.Decode(line, evs[:0]); err != nil || len(evs) != 1 {
			return fmt.Errorf("generated line %d: %v", i, err)
		}
		evs[0].Source = a.id.Cluster + "/" + a.id.Host
		recs := a.id.Records(evs, time.Now())
		if err := writeRecord(&buf, a.id, &recs[0]); err != nil {
			return err
		}
		if buf.Len() > 8<<20 || i == n-1 {
			select {
			case batches <- append([]byte(nil), buf.Bytes()...):
			case err := <-errs:
				return err
			}
			buf.Reset()
		}
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}

// writeRecord is one jsonline record: the attributes forward/otlp.go puts
// on the record, by the same names.
func writeRecord(w *bytes.Buffer, id forward.Identity, r *forward.Record) error {
	ev := &r.Event
	m := map[string]any{
		"_msg": string(ev.Raw), "_time": ev.StageTime.UTC().Format(time.RFC3339Nano),
		"service.name": "kube-apiserver", "host.name": id.Host, "k8s.cluster.name": id.Cluster,
		forward.AttrEventID: r.ID, forward.AttrSource: ev.Source, forward.AttrAuditID: ev.AuditID,
		forward.AttrVerb: ev.Verb, forward.AttrUser: ev.User.Name,
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if ev.Stage != 0 {
		put(forward.AttrStage, ev.Stage.String())
	}
	if ev.Level != 0 {
		put(forward.AttrLevel, ev.Level.String())
	}
	if len(ev.User.Groups) > 0 {
		g, _ := json.Marshal(ev.User.Groups)
		m[forward.AttrGroups] = string(g)
	}
	put(forward.AttrResource, ev.Object.Resource)
	put(forward.AttrSubresource, ev.Object.Subresource)
	put(forward.AttrAPIGroup, ev.Object.APIGroup)
	put(forward.AttrNamespace, ev.Object.Namespace)
	put(forward.AttrName, ev.Object.Name)
	if ev.Code != 0 {
		m[forward.AttrCode] = strconv.Itoa(int(ev.Code))
	}
	put(forward.AttrDecision, ev.Decision)
	if d := ev.Latency(); d > 0 {
		m[forward.AttrLatency] = strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}

func post(url string, body []byte) error {
	resp, err := http.Post(url, "application/stream+json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return nil
}
