// Package gen is a deterministic generator of realistic kube-apiserver audit
// logs: audit.k8s.io/v1 Events as JSON lines, byte for byte in the API
// server's style (field order, omitted empty fields, HTML-safe escaping,
// microsecond timestamps, sorted annotation keys).
//
// The simulated cluster has control-plane components, kubelets, in-cluster
// service accounts and a few humans, chosen Zipf-style. About 98 % of the
// events are at level Metadata; pod writes are logged at RequestResponse with
// multi-KB bodies (the policy of scripts/realcluster/policy-datadog-fixed.yaml
// plus health endpoints). get/list/watch dominate; ~2 % of requests are RBAC
// denials (403 with authorization.k8s.io/decision "forbid"); some 401, 404,
// 409, 422, 429, 500 and 503. Latencies are lognormal with a seconds-long tail;
// requests slower than 500 ms carry apiserver.latency.k8s.io/* annotations.
// Long-running requests (watch, exec, logs -f, port-forward) produce a
// ResponseStarted event and, minutes later in the stream, a ResponseComplete
// event with the same auditID.
//
// The same Config always yields the same bytes. A Generator is not safe for
// concurrent use: it is meant to be owned by one goroutine.
//
// For TLS tests it also makes a throw-away certificate authority (CA).
package gen

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"
)

// Config configures a Generator. Zero fields take the documented defaults.
type Config struct {
	// Seed selects the cluster (names, UIDs) and the event sequence.
	Seed uint64
	// Start is the time of the first event (default 2026-01-15T09:00:00Z).
	Start time.Time
	// EventsPerSecond is the average event rate of the generated clock
	// (default 200). Only timestamps depend on it, not the event mix.
	EventsPerSecond float64
	// Nodes is the number of kubelets (default 12).
	Nodes int
	// KubeVersion and KubeCommit appear in component user agents
	// (defaults "v1.34.2" and "8cc511e").
	KubeVersion, KubeCommit string
}

// DefaultStart is the default Config.Start.
var DefaultStart = time.Date(2026, time.January, 15, 9, 0, 0, 0, time.UTC)

func (c Config) uaString(component string) string {
	return component + "/" + c.KubeVersion + " (linux/amd64) kubernetes/" + c.KubeCommit
}

// Shares of new requests that are RBAC denials and authentication failures.
const (
	pDeny = 0.021
	p401  = 0.0025
)

// Generator produces audit events one line at a time. See the package doc.
type Generator struct {
	cfg Config
	rng *rand.Rand
	zip *rand.Zipf

	nodes        []*node
	namespaces   []*namespaceInfo
	nsByName     map[string]*namespaceInfo
	apps         []*app
	actors       []*actor
	denials      []denial
	denyCum      []float64
	unauth       []*actor
	impWeb       *identity // who the impersonator acts as
	impersonator *actor
	impReason    []byte
	cpIP         string

	now         int64 // stageTimestamp of the last event, unix µs
	nextArrival int64 // receive-complete time of the next new request
	gapMean     float64
	rv          int64 // cluster resourceVersion
	count       uint64
	pending     pendingHeap
	req         request
	scratch     []byte
}

// New returns a Generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.EventsPerSecond <= 0 {
		cfg.EventsPerSecond = 200
	}
	if cfg.Nodes <= 0 {
		cfg.Nodes = 12
	}
	if cfg.KubeVersion == "" {
		cfg.KubeVersion = "v1.34.2"
	}
	if cfg.KubeCommit == "" {
		cfg.KubeCommit = "8cc511e"
	}
	g := &Generator{cfg: cfg, cpIP: "10.0.0.10"}
	g.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g.buildWorld()
	g.buildActors()
	g.zip = rand.NewZipf(g.rng, 1.25, 2.5, uint64(len(g.actors)-1))
	g.now = cfg.Start.UnixMicro()
	g.nextArrival = g.now
	// Long-running requests add a second event each (~3 % of requests).
	g.gapMean = 1e6 / cfg.EventsPerSecond * 1.03
	g.rv = 48_000_000 + int64(g.rng.IntN(1_000_000))
	return g
}

// Next appends exactly one audit event, as one JSON line ending in '\n', to
// dst and returns the extended slice. Each call advances the generated clock.
func (g *Generator) Next(dst []byte) []byte {
	g.count++
	if len(g.pending) > 0 && g.pending[0].due <= g.nextArrival {
		p := heap.Pop(&g.pending).(*pendingReq)
		g.now = p.due
		p.r.stageT = p.due
		return g.writeEvent(dst, &p.r, stageComplete)
	}
	g.now = g.nextArrival
	g.nextArrival += int64(g.rng.ExpFloat64() * g.gapMean)
	r := &g.req
	g.newRequest(r)
	if r.lr {
		// Emit ResponseStarted now; queue ResponseComplete.
		p := &pendingReq{r: *r, due: r.received + r.lrDur}
		p.r.uri = append([]byte(nil), r.uri...)
		p.r.name = append([]byte(nil), r.name...)
		heap.Push(&g.pending, p)
		return g.writeEvent(dst, r, stageStarted)
	}
	if r.code == 401 {
		return g.writeEvent(dst, r, stageStarted)
	}
	return g.writeEvent(dst, r, stageComplete)
}

// Time returns the stageTimestamp of the event most recently returned by
// Next (before the first call: Config.Start). Events come in stageTimestamp
// order, so a live demo can pace output by sleeping until Time() of each
// event; requestReceivedTimestamp may be earlier (it is the request start).
func (g *Generator) Time() time.Time { return time.UnixMicro(g.now).UTC() }

// Count returns the number of events generated so far.
func (g *Generator) Count() uint64 { return g.count }

// Pending returns how many long-running requests have had their
// ResponseStarted event but not yet their ResponseComplete.
func (g *Generator) Pending() int { return len(g.pending) }

type stage uint8

const (
	stageStarted stage = iota
	stageComplete
)

type pendingReq struct {
	r   request
	due int64
}

type pendingHeap []*pendingReq

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return string(h[i].r.auditID[:]) < string(h[j].r.auditID[:])
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(*pendingReq)) }
func (h *pendingHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}

// lognormal returns median*exp(sigma*N(0,1)).
func (g *Generator) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.rng.NormFloat64())
}

// chance reports true with probability p.
func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }
