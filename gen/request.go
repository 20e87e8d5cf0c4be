package gen

import (
	"strconv"
)

type failKind uint8

const (
	fNone        failKind = iota
	fForbidden            // 403 RBAC
	fNotFound             // 404
	fExists               // 409 AlreadyExists
	fConflict             // 409 Conflict
	fInvalid              // 422
	fTooMany              // 429 from priority and fairness (plain text)
	fInternal             // 500
	fUnavailable          // 503 from an aggregated API (plain text)
	fUnauth               // 401
)

type bodyKind uint8

const (
	bNone bodyKind = iota
	bPodCreateCtrl
	bPodCreateUser
	bPodPatch
	bPodDelete
	bSAR
)

// request is one API request being turned into one or two events.
type request struct {
	a        *actor
	o        *op
	user     []byte // rendered user object
	imp      []byte // rendered impersonatedUser object, or nil
	impName  string
	verb     string
	r        *resource
	sub      string
	ns       string
	name     []byte
	app      *app
	uri      []byte
	rr       bool // level RequestResponse
	code     int
	fail     failKind
	decision byte // 0: no authorization annotations, 'a' allow, 'f' forbid
	reason   []byte
	genName  bool     // create with generateName: no name in objectRef
	objUID   [36]byte // objectRef.uid (updates)
	hasUID   bool
	objRV    int64 // objectRef.resourceVersion (updates)
	received int64
	stageT   int64
	lr       bool
	lrDur    int64
	body     bodyKind
	podSec   bool
	latAnn   bool // write apiserver.latency.k8s.io annotations
	auditID  [36]byte
}

func (g *Generator) newRequest(r *request) {
	*r = request{uri: r.uri[:0], name: r.name[:0]}
	appendUUID(r.auditID[:0], g.rng.Uint64(), g.rng.Uint64())
	x := g.rng.Float64()
	switch {
	case x < p401:
		g.buildUnauth(r)
	case x < p401+pDeny:
		g.buildDenied(r)
	default:
		a := g.actors[g.zip.Uint64()]
		o := &a.ops[searchCum(a.cum, g.rng.Float64()*a.cum[len(a.cum)-1])]
		g.build(r, a, o, nil)
		r.decision = 'a'
		r.reason = a.reasonFor(o, r.ns)
		if a == g.impersonator && r.r != nil && (r.verb == "get" || r.verb == "list") && g.chance(0.15) {
			r.imp, r.impName, r.reason = g.impWeb.json, g.impWeb.name, g.impReason
		}
		g.applyErrors(r)
	}
	g.timing(r)
}

func searchCum(cum []float64, v float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > v {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// build fills r from the actor's operation: namespace, name, URI, level, code.
func (g *Generator) build(r *request, a *actor, o *op, nsOverride *string) {
	r.a, r.o, r.user, r.verb, r.r, r.sub = a, o, a.id.json, o.verb, o.r, o.sub
	if o.r == nil { // non-resource URL
		r.uri = append(r.uri, o.fixed...)
		r.code = 200
		return
	}
	// Namespace and app.
	ns := o.ns
	if nsOverride != nil {
		ns = *nsOverride
	}
	switch ns {
	case "*":
		r.app = g.pickApp("")
		ns = r.app.ns
	case "@":
		ns = pick(g.rng, a.nss)
	case "~":
		ns = pick(g.rng, allNamespaces)
	}
	if !o.r.namespaced && o.name != nmNS {
		ns = ""
	}
	if r.app == nil && ns != "" {
		r.app = g.pickApp(ns)
	}
	r.ns = ns
	r.name = g.appendName(r.name, r, o)
	// Level: pod writes and SubjectAccessReviews at RequestResponse.
	if o.r == rPods && o.sub == "" && (o.verb == "create" || o.verb == "update" || o.verb == "patch" || o.verb == "delete") {
		r.rr = true
		switch o.verb {
		case "create":
			if o.q == qKCreate { // kubectl run debug-xxxxx
				r.name = g.randSuffix(append(r.name[:0], "debug-"...), 5)
			}
			if len(r.name) == 0 {
				r.genName = true
				r.body = bPodCreateCtrl
				r.name = g.newPodNameBytes(r.name, r.app)
			} else {
				r.body = bPodCreateUser
			}
			r.podSec = true
		case "patch":
			r.body = bPodPatch
		case "update":
			r.body = bPodPatch
			r.podSec = true
		case "delete":
			r.body = bPodDelete
		}
	}
	if o.r == rSARs && o.verb == "create" {
		r.rr = true
		r.body = bSAR
	}
	// Request URI.
	r.uri = append(r.uri, o.r.prefix...)
	if ns != "" && o.r != rNamespaces {
		r.uri = append(r.uri, "/namespaces/"...)
		r.uri = append(r.uri, ns...)
	}
	r.uri = append(r.uri, '/')
	r.uri = append(r.uri, o.r.name...)
	if len(r.name) > 0 && !(o.verb == "create" && o.sub == "") && o.verb != "list" && o.verb != "watch" {
		r.uri = append(r.uri, '/')
		r.uri = append(r.uri, r.name...)
		if o.sub != "" {
			r.uri = append(r.uri, '/')
			r.uri = append(r.uri, o.sub...)
		}
	}
	g.appendQuery(r, o)
	switch o.verb {
	case "create":
		r.code = 201
	default:
		r.code = 200
	}
	if o.verb == "update" {
		g.objUID(r)
		r.objRV = g.rv - int64(g.rng.IntN(5000))
	}
	if o.verb == "create" || o.verb == "update" || o.verb == "patch" || o.verb == "delete" {
		g.rv += 1 + int64(g.rng.IntN(3))
	}
	// Long-running requests.
	switch {
	case o.verb == "watch":
		r.lr = true
	case o.sub == "exec" || o.sub == "portforward" || o.sub == "attach":
		r.lr = true
		r.code = 101
	case o.q == qLogF:
		r.lr = true
	}
}

// objUID sets a stable UID for an updated object.
func (g *Generator) objUID(r *request) {
	r.hasUID = true
	if r.app != nil {
		switch r.r {
		case rDeployments:
			copy(r.objUID[:], r.app.deployUID)
			return
		case rReplicaSets:
			copy(r.objUID[:], r.app.rsUID)
			return
		}
	}
	// Stable per object: derived from its resource, namespace and name (FNV-1a).
	h1, h2 := uint64(14695981039346656037), uint64(1099511628211)
	mix := func(s []byte) {
		for _, c := range s {
			h1 = (h1 ^ uint64(c)) * 1099511628211
			h2 = (h2 ^ uint64(c)) * 14029467366897019727
		}
		h1 = (h1 ^ '/') * 1099511628211
	}
	mix([]byte(r.r.name))
	mix([]byte(r.ns))
	mix(r.name)
	appendUUID(r.objUID[:0], h1, h2)
}

func (g *Generator) newPodNameBytes(dst []byte, a *app) []byte {
	if a == nil {
		return g.randSuffix(append(dst, "pod-"...), 5)
	}
	dst = append(dst, a.name...)
	dst = append(dst, '-')
	dst = append(dst, a.rsHash...)
	dst = append(dst, '-')
	dst = g.randSuffix(dst, 5)
	// The new pod replaces an old one in the app's pool.
	a.pods[g.rng.IntN(len(a.pods))] = string(dst[len(dst)-len(a.name)-17:])
	return dst
}

func (g *Generator) appendName(dst []byte, r *request, o *op) []byte {
	a := r.app
	switch o.name {
	case nmFixed:
		return append(dst, o.fixed...)
	case nmSelfNode:
		if r.a.node != nil {
			return append(dst, r.a.node.name...)
		}
		return append(dst, pick(g.rng, g.nodes).name...)
	case nmNode:
		return append(dst, pick(g.rng, g.nodes).name...)
	case nmNS:
		return append(dst, r.ns...)
	}
	if a == nil {
		switch o.name {
		case nmCM:
			return append(dst, "kube-root-ca.crt"...)
		case nmNone:
			return dst
		}
		return g.randSuffix(append(dst, "pod-"...), 5)
	}
	switch o.name {
	case nmPod:
		return append(dst, pick(g.rng, a.pods)...)
	case nmApp:
		return append(dst, a.name...)
	case nmRS:
		dst = append(dst, a.name...)
		dst = append(dst, '-')
		return append(dst, a.rsHash...)
	case nmCM:
		switch g.rng.IntN(3) {
		case 0:
			return append(dst, "kube-root-ca.crt"...)
		case 1:
			return append(append(dst, a.name...), "-env"...)
		}
		return append(append(dst, a.name...), "-config"...)
	case nmSecret:
		if g.rng.IntN(2) == 0 {
			return append(append(dst, a.name...), "-tls"...)
		}
		return append(append(dst, a.name...), "-credentials"...)
	case nmEvent:
		dst = append(dst, pick(g.rng, a.pods)...)
		dst = append(dst, '.')
		for range 16 {
			dst = append(dst, hexDigits[g.rng.IntN(16)])
		}
		return dst
	case nmSlice:
		dst = append(dst, a.name...)
		dst = append(dst, '-')
		return append(dst, a.rsHash[:5]...)
	}
	return dst
}

// appendQuery appends the query string the client would send.
func (g *Generator) appendQuery(r *request, o *op) {
	u := r.uri
	switch o.q {
	case qRaw:
		switch o.qarg {
		case "node":
			u = append(u, "?fieldSelector=spec.nodeName%3D"...)
			u = append(u, pick(g.rng, g.nodes).name...)
		case "label":
			u = append(u, "?labelSelector=app%3D"...)
			if r.app != nil {
				u = append(u, r.app.name...)
			}
			u = append(u, "&limit=500"...)
		default:
			u = append(u, o.qarg...)
		}
	case qTimeout:
		u = append(u, "?timeout="...)
		u = append(u, o.qarg...)
	case qList:
		u = append(u, "?limit=500&resourceVersion=0"...)
	case qKList:
		u = append(u, "?limit=500"...)
	case qKCreate:
		u = append(u, "?fieldManager=kubectl-create&fieldValidation=Strict"...)
	case qKApply:
		u = append(u, "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"...)
	case qKWatch:
		u = append(u, "?resourceVersion="...)
		u = strconv.AppendInt(u, g.rv-int64(g.rng.IntN(50)), 10)
		u = append(u, "&watch=true"...)
		r.lrDur = int64(g.lognormal(180, 1.0) * 1e6)
	case qWatch:
		u = append(u, "?allowWatchBookmarks=true"...)
		switch o.qarg {
		case "node":
			u = append(u, "&fieldSelector=spec.nodeName%3D"...)
			if r.a.node != nil {
				u = append(u, r.a.node.name...)
			} else {
				u = append(u, pick(g.rng, g.nodes).name...)
			}
		case "name":
			u = append(u, "&fieldSelector=metadata.name%3D"...)
			u = append(u, r.name...)
		case "phase":
			u = append(u, "&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed"...)
		}
		u = append(u, "&resourceVersion="...)
		u = strconv.AppendInt(u, g.rv-int64(g.rng.IntN(2000)), 10)
		secs := 300 + g.rng.IntN(300) // client-go: minWatchTimeout * [1, 2)
		u = append(u, "&timeout="...)
		u = strconv.AppendInt(u, int64(secs/60), 10)
		u = append(u, 'm')
		u = strconv.AppendInt(u, int64(secs%60), 10)
		u = append(u, "s&timeoutSeconds="...)
		u = strconv.AppendInt(u, int64(secs), 10)
		u = append(u, "&watch=true"...)
		r.lrDur = int64(secs)*1e6 + int64(g.rng.IntN(3000))
		if g.chance(0.1) { // connection dropped early
			r.lrDur = int64(g.rng.Float64() * float64(r.lrDur))
		}
	case qLog, qLogF:
		u = append(u, "?container="...)
		if r.app != nil {
			u = append(u, r.app.container...)
		}
		if o.q == qLogF {
			u = append(u, "&follow=true"...)
			r.lrDur = int64(g.lognormal(120, 1.2) * 1e6)
		}
		u = append(u, "&tailLines=100"...)
	case qExec:
		u = append(u, "?command=sh&container="...)
		if r.app != nil {
			u = append(u, r.app.container...)
		}
		u = append(u, "&stdin=true&stdout=true&tty=true"...)
		r.lrDur = int64(g.lognormal(90, 1.3) * 1e6)
	case qPortFwd:
		r.lrDur = int64(g.lognormal(600, 1.0) * 1e6)
	}
	r.uri = u
}
