package gen

// Outcomes: RBAC denials, authentication failures, the other error codes, and
// request timing.

// denial is a request the RBAC authorizer refuses.
type denial struct {
	a   *actor
	o   op
	ns  string
	imp bool // made while impersonating g.impWeb
	w   float64
}

func (g *Generator) actorByName(name string) *actor {
	for _, a := range g.actors {
		if a.id.name == name {
			return a
		}
	}
	panic("gen: no actor " + name)
}

func (g *Generator) buildDenials() {
	bob, alice, carol := g.actorByName("bob"), g.actorByName("alice"), g.actorByName("carol")
	ci := g.actorByName("system:serviceaccount:ci:ci-bot")
	ksm := g.actorByName("system:serviceaccount:monitoring:kube-state-metrics")
	dana := g.actorByName("dana@example.com")
	scanner := &actor{id: &identity{name: "system:anonymous", json: userJSON("system:anonymous", "", []string{"system:unauthenticated"}, nil)},
		ua: quote("python-requests/2.32.3"), ips: ipsJSON("45.155.205.17")}
	g.impersonator = dana
	g.impWeb = &identity{name: "system:serviceaccount:prod:web", json: userJSON("system:serviceaccount:prod:web", "",
		[]string{"system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"}, nil)}
	g.impReason = quote(`RBAC: allowed by ClusterRoleBinding "prod-web-view" of ClusterRole "view" to ServiceAccount "web/prod"`)
	d := func(w float64, a *actor, ns string, o op) denial { return denial{a: a, o: o, ns: ns, w: w} }
	g.denials = []denial{
		d(6, bob, "prod", rq(0, "list", rPods, "@", nmNone, qKList, "")),
		d(2, bob, "prod", rq(0, "get", rPods, "@", nmPod, qNone, "")),
		d(1.5, bob, "prod", rq(0, "get", rPods, "@", nmPod, qLog, "").sr("log")),
		d(1, bob, "payments", rq(0, "create", rPods, "@", nmPod, qExec, "").sr("exec")),
		d(1, bob, "", rq(0, "list", rNodes, "", nmNone, qKList, "")),
		d(0.5, bob, "dev", rq(0, "create", rRoleBindings, "@", nmNone, qKCreate, "")),
		d(0.7, bob, "kube-system", rq(0, "list", rSecrets, "@", nmNone, qKList, "")),
		d(3, alice, "team-b", rq(0, "get", rSecrets, "@", nmSecret, qNone, "")),
		d(1, alice, "data", rq(0, "list", rSecrets, "@", nmNone, qKList, "")),
		d(1, alice, "data", rq(0, "create", rPods, "@", nmPod, qExec, "").sr("exec")),
		d(1, alice, "team-b", rq(0, "delete", rPods, "@", nmPod, qNone, "")),
		d(1, alice, "", rq(0, "list", rNamespaces, "", nmNone, qKList, "")),
		d(0.5, carol, "staging", rq(0, "delete", rNamespaces, "@", nmNS, qNone, "")),
		d(1, carol, "prod", rq(0, "patch", rDeployments, "@", nmApp, qKApply, "")),
		d(0.4, carol, "prod", rq(0, "create", rPods, "@", nmPod, qKCreate, "")),
		d(1, ci, "kube-system", rq(0, "get", rSecrets, "@", nmSecret, qNone, "")),
		d(0.5, ci, "", rq(0, "create", rCRBs, "", nmNone, qKCreate, "")),
		d(0.5, ci, "", rq(0, "list", rNodes, "", nmNone, qKList, "")),
		d(2, ksm, "", rq(0, "list", rLeases, "", nmNone, qList, "")),
		d(0.6, scanner, "kube-system", rq(0, "list", rSecrets, "@", nmNone, qNone, "")),
		d(0.4, scanner, "", nr(0, "/metrics", "")),
		d(0.3, scanner, "default", rq(0, "list", rPods, "@", nmNone, qNone, "")),
		{a: dana, o: rq(0, "list", rSecrets, "@", nmNone, qKList, ""), ns: "prod", imp: true, w: 0.6},
		{a: dana, o: rq(0, "get", rConfigMaps, "@", nmCM, qNone, ""), ns: "kube-system", imp: true, w: 0.3},
	}
	total := 0.0
	for _, dn := range g.denials {
		total += dn.w
		g.denyCum = append(g.denyCum, total)
	}
	kubectlUA := quote("kubectl/v1.31.3 (linux/amd64) kubernetes/c83cbee")
	g.unauth = []*actor{
		{id: &identity{json: []byte("{}")}, ua: kubectlUA, ips: ipsJSON("203.0.113.88"), ops: ops(
			nr(4, "/api?timeout=32s", ""), nr(2, "/apis?timeout=32s", ""),
			rq(1, "list", rPods, "default", nmNone, qKList, ""))},
		{id: &identity{json: []byte("{}")}, ua: quote("curl/8.5.0"), ips: ipsJSON("198.51.100.200"), ops: ops(
			nr(1, "/version", ""), nr(1, "/api/v1/namespaces/kube-system/secrets", "").fx2(rSecrets, "kube-system"))},
	}
	for _, a := range g.unauth {
		a.finish()
	}
}

// fx2 turns a non-resource op into a resource list in ns (used for 401s
// whose path is a resource).
func (o op) fx2(r *resource, ns string) op {
	o.r, o.ns, o.verb, o.fixed, o.name = r, ns, "list", "", nmNone
	return o
}

func (g *Generator) buildDenied(r *request) {
	dn := &g.denials[searchCum(g.denyCum, g.rng.Float64()*g.denyCum[len(g.denyCum)-1])]
	o := dn.o
	ns := dn.ns
	g.build(r, dn.a, &o, &ns)
	r.o = &dn.o
	if dn.imp {
		r.imp, r.impName = g.impWeb.json, g.impWeb.name
	}
	r.decision, r.reason = 'f', emptyReason
	r.code, r.fail, r.lr = 403, fForbidden, false
	r.genName = false
	r.hasUID, r.objRV = false, 0
	r.body, r.podSec = bNone, false
}

func (g *Generator) buildUnauth(r *request) {
	a := g.unauth[g.rng.IntN(len(g.unauth))]
	o := &a.ops[searchCum(a.cum, g.rng.Float64()*a.cum[len(a.cum)-1])]
	g.build(r, a, o, nil)
	r.code, r.fail, r.lr, r.decision = 401, fUnauth, false, 0
}

// applyErrors turns some allowed requests into failures.
func (g *Generator) applyErrors(r *request) {
	x := g.rng.Float64()
	switch {
	case x < 0.0006 && !r.a.master: // system:masters is exempt from priority and fairness
		r.code, r.fail, r.decision = 429, fTooMany, 0
	case x < 0.0010 && r.verb != "watch":
		r.code, r.fail = 500, fInternal
	case r.r == rPodMetrics || r.r == rNodeMetrics:
		if x < 0.08 {
			r.code, r.fail = 503, fUnavailable
		}
	case r.r == nil:
	case r.verb == "get" && len(r.name) > 0 && r.sub != "exec" && r.r.namespaced && r.o.name != nmFixed && r.r != rLeases:
		if x < 0.012 {
			r.code, r.fail = 404, fNotFound
		}
	case r.verb == "create" && r.sub == "":
		if x < 0.006 && !r.genName && len(r.name) > 0 {
			r.code, r.fail = 409, fExists
		} else if x > 0.997 && r.r.kind != "" && len(r.name) > 0 {
			r.code, r.fail = 422, fInvalid
		}
	case r.verb == "update":
		if x < 0.02 {
			r.code, r.fail = 409, fConflict
		}
	case r.verb == "patch":
		if x < 0.003 && len(r.name) > 0 {
			r.code, r.fail = 422, fInvalid
		} else if x > 0.997 {
			r.code, r.fail = 404, fNotFound
		}
	case r.verb == "delete":
		if x < 0.03 {
			r.code, r.fail = 404, fNotFound
		}
	}
	if r.fail != fNone {
		r.lr = false
		r.podSec = r.podSec && r.fail != fTooMany && r.fail != fNotFound
	}
}

// timing sets requestReceivedTimestamp and stageTimestamp (of the first event).
func (g *Generator) timing(r *request) {
	r.stageT = g.now
	if r.lr {
		start := int64(g.lognormal(3, 0.8)*1000) + 200
		r.received = g.now - start
		if r.lrDur < start+1000 {
			r.lrDur = start + 1000 + int64(g.rng.IntN(5000))
		}
		return
	}
	lat := g.latency(r)
	r.received = g.now - lat
	r.latAnn = lat >= 500_000 && r.fail != fUnauth && r.fail != fTooMany
}

// latency returns a request's duration in µs: lognormal per kind of request,
// with a 1.5 % heavy tail reaching seconds.
func (g *Generator) latency(r *request) int64 {
	med, sig := 1.2, 0.8 // ms
	switch {
	case r.r == nil:
		med, sig = 0.5, 0.6
		if r.o.fixed == "/metrics" {
			med, sig = 35, 0.5
		} else if len(r.o.fixed) > 8 && r.o.fixed[:8] == "/openapi" {
			med = 12
		}
	case r.verb == "list":
		med, sig = 8, 1.0
		if r.ns == "" {
			med *= 4
		}
		if r.r == rPods {
			med *= 2
		}
	case r.verb == "create" || r.verb == "update" || r.verb == "patch" || r.verb == "delete":
		med, sig = 4.5, 0.6
		if r.r == rPods && r.sub == "" {
			med *= 3
		}
	}
	switch r.fail {
	case fNotFound, fForbidden, fUnauth, fTooMany:
		med, sig = 0.8, 0.6
	case fInternal:
		med, sig = 2500, 1.0
	case fUnavailable:
		med, sig = 30, 1.0
	}
	ms := g.lognormal(med, sig)
	switch r.fail {
	case fUnauth, fTooMany, fForbidden:
		ms = min(ms, 400)
	default:
		if g.chance(0.015) {
			ms *= g.lognormal(150, 1.0)
		}
		ms = min(ms, 60000)
	}
	return int64(ms*1000) + 1
}
