package gen

import (
	"slices"
	"strconv"
)

// Actors are the clients of the simulated API server: control-plane
// components, kubelets, in-cluster service accounts, humans. Each has a menu
// of weighted operations; the generator picks an actor (Zipf over the list
// order, most active first) and then an operation from its menu.

type nameKind uint8

const (
	nmNone     nameKind = iota
	nmFixed             // op.fixed
	nmPod               // a pod of a random app in the namespace
	nmApp               // the app's name (deployment, service, configmap owner...)
	nmRS                // the app's current ReplicaSet
	nmSelfNode          // the actor's node
	nmNode              // a random node
	nmCM                // a configmap of the app
	nmSecret            // a secret of the app
	nmEvent             // an event name: <pod>.<16 hex>
	nmSlice             // an endpointslice: <app>-<5 chars>
	nmNS                // the namespace itself (resource namespaces)
)

type queryKind uint8

const (
	qNone    queryKind = iota
	qRaw               // op.qarg verbatim (with its '?')
	qTimeout           // ?timeout=<qarg>
	qList              // informer list: ?limit=500&resourceVersion=0
	qWatch             // informer watch; qarg "node" or "name" adds a field selector
	qKList             // kubectl list: ?limit=500
	qKWatch            // kubectl get -w
	qKCreate           // kubectl create
	qKApply            // kubectl apply (client side)
	qLog               // kubectl logs
	qLogF              // kubectl logs -f (long-running)
	qExec              // kubectl exec (long-running)
	qPortFwd           // kubectl port-forward (long-running)
)

// op is one kind of request an actor makes.
type op struct {
	w      float64
	verb   string
	r      *resource // nil: non-resource request, fixed is the path
	sub    string
	ns     string // "" cluster scope or all namespaces; "*" an app namespace; "@" one of the actor's namespaces
	name   nameKind
	fixed  string
	q      queryKind
	qarg   string
	reason string // authorization reason override ("" = the actor's)
	quoted []byte // reason as a JSON string (set by actor.finish)
}

func rq(w float64, verb string, r *resource, ns string, nm nameKind, q queryKind, qarg string) op {
	return op{w: w, verb: verb, r: r, ns: ns, name: nm, q: q, qarg: qarg}
}

// nr is a non-resource GET.
func nr(w float64, path string, reason string) op {
	return op{w: w, verb: "get", fixed: path, reason: reason}
}

func (o op) sr(sub string) op  { o.sub = sub; return o }
func (o op) fx(name string) op { o.fixed = name; o.name = nmFixed; return o }
func (o op) why(rs string) op  { o.reason = rs; return o }

// actor is one client identity with its habits.
type actor struct {
	id           *identity
	ua           []byte   // quoted user agent
	ips          []byte   // rendered sourceIPs array
	nss          []string // namespaces it works in ("@")
	node         *node    // for kubelets
	reason       string   // default authorization reason
	quotedReason []byte
	rb           [3]string
	ops          []op
	cum          []float64
	master       bool // member of system:masters: authorization reason is always ""
	human        bool
	rbNS         map[string][]byte // cached namespaced RoleBinding reasons
}

const (
	rsDiscovery = `RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"`
	rsPublic    = `RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:authenticated"`
	rsPublicAn  = `RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"`
	rsBasic     = `RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"`
)

func crb(binding, role, subject string) string {
	return `RBAC: allowed by ClusterRoleBinding "` + binding + `" of ClusterRole "` + role + `" to ` + subject
}

func saSubject(ns, sa string) string { return `ServiceAccount "` + sa + "/" + ns + `"` }

func (a *actor) finish() *actor {
	total := 0.0
	a.cum = a.cum[:0]
	a.ops = slices.Clone(a.ops) // the menus are shared; quoted reasons are per actor
	for i := range a.ops {
		o := &a.ops[i]
		if o.reason != "" {
			o.quoted = quote(o.reason)
		}
		total += o.w
		a.cum = append(a.cum, total)
	}
	return a
}

// reasonFor returns the authorization reason for an allowed request.
func (a *actor) reasonFor(o *op, ns string) []byte {
	switch {
	case a.master:
		return emptyReason
	case o.quoted != nil:
		return o.quoted
	case a.rb[0] != "" && ns != "":
		if b, ok := a.rbNS[ns]; ok {
			return b
		}
		b := quote(`RBAC: allowed by RoleBinding "` + a.rb[0] + "/" + ns + `" of ` + a.rb[1] + " to " + a.rb[2])
		if a.rbNS == nil {
			a.rbNS = map[string][]byte{}
		}
		a.rbNS[ns] = b
		return b
	}
	if a.quotedReason == nil {
		a.quotedReason = quote(a.reason)
	}
	return a.quotedReason
}

var emptyReason = []byte(`""`)

func ipsJSON(ips ...string) []byte {
	b := []byte{'['}
	for i, ip := range ips {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, ip)
	}
	return append(b, ']')
}

func (g *Generator) ua(component, suffix string) []byte {
	s := component + "/" + g.cfg.KubeVersion + " (linux/amd64) kubernetes/" + g.cfg.KubeCommit
	if suffix != "" {
		s += "/" + suffix
	}
	return quote(s)
}

// controller returns a kube-controller-manager controller running with its own
// service account (--use-service-account-credentials).
func (g *Generator) controller(name string, ops ...op) *actor {
	return &actor{id: saUser(g, "kube-system", name, nil, nil),
		ua:     g.ua("kube-controller-manager", "system:serviceaccount:kube-system:"+name),
		ips:    ipsJSON(g.cpIP),
		reason: crb("system:controller:"+name, "system:controller:"+name, saSubject("kube-system", name)),
		ops:    ops}
}

// podSA returns an in-cluster workload's service account.
func (g *Generator) podSA(ns, sa, uaStr, binding, role string, ops ...op) *actor {
	nd := g.nodes[g.rng.IntN(len(g.nodes))]
	podName := sa + "-" + string(g.randSuffix(nil, 10)) + "-" + string(g.randSuffix(nil, 5))
	for _, a := range g.apps {
		if a.ns == ns && a.name == sa {
			podName = a.pods[0]
		}
	}
	ip := nd.podCIDR + strconv.Itoa(2+g.rng.IntN(250))
	return &actor{id: saUser(g, ns, sa, &[2]string{podName, g.uuid()}, nd), ua: quote(uaStr),
		ips: ipsJSON(ip), nss: []string{ns},
		reason: crb(binding, role, saSubject(ns, sa)), ops: ops}
}

func (g *Generator) kubelet(nd *node) *actor {
	return &actor{id: x509User(g, "system:node:"+nd.name, "system:nodes"), ua: g.ua("kubelet", ""),
		ips: ipsJSON(nd.ip), node: nd, reason: "", ops: kubeletOps}
}

func (g *Generator) buildActors() {
	kcm := &actor{id: x509User(g, "system:kube-controller-manager"), ua: g.ua("kube-controller-manager", "shared-informers"),
		ips:    ipsJSON(g.cpIP),
		reason: crb("system:kube-controller-manager", "system:kube-controller-manager", `User "system:kube-controller-manager"`),
		ops:    kcmOps}
	sched := &actor{id: x509User(g, "system:kube-scheduler"), ua: g.ua("kube-scheduler", "scheduler"),
		ips:    ipsJSON(g.cpIP),
		reason: crb("system:kube-scheduler", "system:kube-scheduler", `User "system:kube-scheduler"`),
		ops:    schedOps}
	apiserver := &actor{id: &identity{name: "system:apiserver", json: userJSON("system:apiserver", g.uuid(),
		[]string{"system:authenticated", "system:masters"}, nil)}, ua: g.ua("kube-apiserver", ""),
		ips: ipsJSON("::1"), master: true, ops: apiserverOps}
	ctrl := func(name string, ops ...op) *actor { return g.controller(name, ops...) }

	head := []*actor{
		apiserver, kcm,
		ctrl("endpointslice-controller", endpointSliceOps...),
		sched,
		ctrl("replicaset-controller", replicaSetOps...),
		g.podSA("monitoring", "prometheus-k8s", "Prometheus/3.5.0", "prometheus-k8s", "prometheus-k8s", prometheusOps...),
		g.podSA("argocd", "argocd-application-controller", "argocd-application-controller/v3.1.0 (linux/amd64) kubernetes/$Format",
			"argocd-application-controller", "argocd-application-controller", argocdOps...),
		ctrl("deployment-controller", deploymentOps...),
		g.podSA("ingress-nginx", "ingress-nginx", "nginx-ingress-controller/v1.13.0 (linux/amd64) ingress-nginx/4a1b7f8e2",
			"ingress-nginx", "ingress-nginx", ingressOps...),
		g.podSA("kube-system", "metrics-server", "metrics-server/v0.8.0 (linux/amd64) kubernetes/$Format",
			"system:metrics-server", "system:metrics-server", metricsServerOps...),
		g.podSA("cert-manager", "cert-manager", "cert-manager-controller/v1.18.2 (linux/amd64) cert-manager/b2e4f7c1d",
			"cert-manager-controller-certificates", "cert-manager-controller-certificates", certManagerOps...),
	}
	tail := []*actor{
		ctrl("generic-garbage-collector", gcOps...),
		ctrl("resourcequota-controller", quotaOps...),
		ctrl("namespace-controller", namespaceOps...),
		ctrl("node-controller", nodeCtrlOps...),
		ctrl("horizontal-pod-autoscaler", hpaOps...),
		ctrl("job-controller", jobOps...),
		ctrl("daemon-set-controller", dsOps...),
		g.ciBot(),
		g.anonymous(),
		g.podSA("kube-system", "kube-proxy", g.cfg.uaString("kube-proxy"), "kubeadm:node-proxier", "system:node-proxier", kubeProxyOps...),
		ctrl("statefulset-controller", stsOps...),
		g.human("dana@example.com", "kubectl/v1.34.1 (darwin/arm64) kubernetes/93248f9", []string{"sre"},
			[3]string{}, crb("sre-admin", "cluster-admin", `Group "sre"`), "198.51.100.23", "10.0.0.5"),
		g.podSA("monitoring", "kube-state-metrics", "kube-state-metrics/v2.16.0 (linux/amd64) kubernetes/$Format",
			"kube-state-metrics", "kube-state-metrics", ksmOps...),
		g.human("bob", "kubectl/v1.33.4 (linux/amd64) kubernetes/74cdb42", []string{"dev"},
			[3]string{"dev-edit", `ClusterRole "edit"`, `Group "dev"`}, "", "203.0.113.41"),
		g.human("alice", "kubectl/v1.34.1 (darwin/arm64) kubernetes/93248f9", nil,
			[3]string{"alice-view", `ClusterRole "view"`, `User "alice"`}, "", "203.0.113.17"),
		ctrl("service-account-controller", saCtrlOps...),
		g.human("carol", "k9s/v0.0.0 (darwin/arm64) kubernetes/$Format", []string{"dev", "qa"},
			[3]string{"dev-edit", `ClusterRole "edit"`, `Group "dev"`}, "", "198.51.100.77"),
		g.admin(),
		g.podSA("kube-system", "coredns", "coredns/v0.0.0 (linux/amd64) kubernetes/$Format", "system:coredns", "system:coredns", corednsOps...),
		ctrl("cronjob-controller", cronOps...),
		ctrl("pod-garbage-collector", podGCOps...),
	}
	// Interleave the kubelets with the head so that each is individually busy
	// but no single kubelet tops the list.
	var order []*actor
	k := 0
	for i, a := range head {
		order = append(order, a)
		if i >= 1 && k < len(g.nodes) {
			order = append(order, g.kubelet(g.nodes[k]))
			k++
		}
	}
	for ; k < len(g.nodes); k++ {
		order = append(order, g.kubelet(g.nodes[k]))
	}
	order = append(order, tail...)
	for _, a := range order {
		a.finish()
	}
	g.actors = order
	g.buildDenials()
}

func (g *Generator) human(name, ua string, groups []string, rb [3]string, reason string, ips ...string) *actor {
	var id *identity
	if name == "carol" {
		id = x509User(g, name, groups...)
	} else {
		id = tokenUser(name, groups...)
	}
	nss := map[string][]string{
		"bob":              {"dev", "staging", "team-a"},
		"carol":            {"dev", "staging", "team-a"},
		"alice":            {"team-b", "data"},
		"dana@example.com": {"prod", "payments", "staging", "kube-system", "monitoring", "ingress-nginx"},
	}[name]
	a := &actor{id: id, ua: quote(ua), ips: ipsJSON(ips...), nss: nss, rb: rb, reason: reason, ops: humanOps, human: true}
	if name == "alice" {
		a.ops = viewerOps
	}
	return a
}

func (g *Generator) admin() *actor {
	return &actor{id: tokenUser("admin", "system:masters"), ua: quote("Helm/3.18.4"), ips: ipsJSON("10.0.0.5"),
		nss: []string{"prod", "payments", "monitoring", "cert-manager", "ingress-nginx"}, master: true, human: true, ops: adminOps}
}

func (g *Generator) ciBot() *actor {
	a := g.podSA("ci", "ci-bot", "kubectl/v1.33.4 (linux/amd64) kubernetes/74cdb42", "", "", ciOps...)
	a.nss = []string{"staging", "prod"}
	a.rb = [3]string{"ci-deployer", `ClusterRole "edit"`, saSubject("ci", "ci-bot")}
	a.human = true // uses kubectl query styles
	return a
}

func (g *Generator) anonymous() *actor {
	return &actor{id: &identity{name: "system:anonymous", json: userJSON("system:anonymous", "", []string{"system:unauthenticated"}, nil)},
		ua: quote("kube-probe/" + majorMinor(g.cfg.KubeVersion)), ips: ipsJSON(g.cpIP), reason: rsPublicAn, ops: anonOps}
}

func majorMinor(v string) string {
	dots := 0
	for i := range len(v) {
		if v[i] == '.' {
			dots++
			if dots == 2 {
				return v[1:i]
			}
		}
	}
	return v
}
