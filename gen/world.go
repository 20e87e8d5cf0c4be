package gen

import (
	"math/rand/v2"
	"strconv"
)

// The simulated cluster: API resources, namespaces with their applications,
// nodes, and the identities that talk to the API server. Everything here is
// built once by New from the seed and never changes afterwards (only the pod
// names of each application rotate as pods are created).

// resource is one API resource (plural name) as seen by the RequestInfo resolver.
type resource struct {
	name       string // plural, e.g. "deployments"
	group      string // "" for the core group
	version    string
	namespaced bool
	kind       string // e.g. "Deployment" (used in Invalid messages)
	prefix     string // "/api/v1" or "/apis/apps/v1"
	qualified  string // "deployments.apps" or "pods" (used in error messages)
}

func res(name, group, version, kind string, namespaced bool) *resource {
	r := &resource{name: name, group: group, version: version, namespaced: namespaced, kind: kind}
	if group == "" {
		r.prefix = "/api/" + version
		r.qualified = name
	} else {
		r.prefix = "/apis/" + group + "/" + version
		r.qualified = name + "." + group
	}
	return r
}

var (
	rPods          = res("pods", "", "v1", "Pod", true)
	rConfigMaps    = res("configmaps", "", "v1", "ConfigMap", true)
	rSecrets       = res("secrets", "", "v1", "Secret", true)
	rServices      = res("services", "", "v1", "Service", true)
	rEndpoints     = res("endpoints", "", "v1", "Endpoints", true)
	rEvents        = res("events", "", "v1", "Event", true)
	rNodes         = res("nodes", "", "v1", "Node", false)
	rNamespaces    = res("namespaces", "", "v1", "Namespace", false)
	rSAs           = res("serviceaccounts", "", "v1", "ServiceAccount", true)
	rPVCs          = res("persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", true)
	rPVs           = res("persistentvolumes", "", "v1", "PersistentVolume", false)
	rQuotas        = res("resourcequotas", "", "v1", "ResourceQuota", true)
	rDeployments   = res("deployments", "apps", "v1", "Deployment", true)
	rReplicaSets   = res("replicasets", "apps", "v1", "ReplicaSet", true)
	rStatefulSets  = res("statefulsets", "apps", "v1", "StatefulSet", true)
	rDaemonSets    = res("daemonsets", "apps", "v1", "DaemonSet", true)
	rRevisions     = res("controllerrevisions", "apps", "v1", "ControllerRevision", true)
	rLeases        = res("leases", "coordination.k8s.io", "v1", "Lease", true)
	rSlices        = res("endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", true)
	rEventsV1      = res("events", "events.k8s.io", "v1", "Event", true)
	rJobs          = res("jobs", "batch", "v1", "Job", true)
	rCronJobs      = res("cronjobs", "batch", "v1", "CronJob", true)
	rIngresses     = res("ingresses", "networking.k8s.io", "v1", "Ingress", true)
	rRoles         = res("roles", "rbac.authorization.k8s.io", "v1", "Role", true)
	rRoleBindings  = res("rolebindings", "rbac.authorization.k8s.io", "v1", "RoleBinding", true)
	rClusterRoles  = res("clusterroles", "rbac.authorization.k8s.io", "v1", "ClusterRole", false)
	rCRBs          = res("clusterrolebindings", "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false)
	rSARs          = res("subjectaccessreviews", "authorization.k8s.io", "v1", "SubjectAccessReview", false)
	rSSARs         = res("selfsubjectaccessreviews", "authorization.k8s.io", "v1", "SelfSubjectAccessReview", false)
	rTokenReviews  = res("tokenreviews", "authentication.k8s.io", "v1", "TokenReview", false)
	rCSINodes      = res("csinodes", "storage.k8s.io", "v1", "CSINode", false)
	rStorageClass  = res("storageclasses", "storage.k8s.io", "v1", "StorageClass", false)
	rCRDs          = res("customresourcedefinitions", "apiextensions.k8s.io", "v1", "CustomResourceDefinition", false)
	rVWCs          = res("validatingwebhookconfigurations", "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", false)
	rFlowSchemas   = res("flowschemas", "flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", false)
	rPDBs          = res("poddisruptionbudgets", "policy", "v1", "PodDisruptionBudget", true)
	rHPAs          = res("horizontalpodautoscalers", "autoscaling", "v2", "HorizontalPodAutoscaler", true)
	rPodMetrics    = res("pods", "metrics.k8s.io", "v1beta1", "PodMetrics", true)
	rNodeMetrics   = res("nodes", "metrics.k8s.io", "v1beta1", "NodeMetrics", false)
	rCertificates  = res("certificates", "cert-manager.io", "v1", "Certificate", true)
	rApplications  = res("applications", "argoproj.io", "v1alpha1", "Application", true)
	rRuntimeClass  = res("runtimeclasses", "node.k8s.io", "v1", "RuntimeClass", false)
	rPriorityClass = res("priorityclasses", "scheduling.k8s.io", "v1", "PriorityClass", false)
)

// node is a worker (or control-plane) node.
type node struct {
	name, ip, uid string
	podCIDR       string // "10.244.<i>." prefix of its pod IPs
}

// app is a Deployment and the pods of its current ReplicaSet.
type app struct {
	ns, name, image, container string
	port                       int
	rsHash                     string // pod-template-hash
	deployUID, rsUID           string
	pods                       []string // current pod names
	cpu, mem, memLimit         string
}

// identity is an authenticated user as written in the event's "user" field.
type identity struct {
	name string
	json []byte // the rendered {"username":...} object
}

// namespaceInfo is a namespace and the apps deployed in it.
type namespaceInfo struct {
	name string
	apps []*app
}

const podNameChars = "bcdfghjklmnpqrstvwxz2456789" // k8s.io/apimachinery/pkg/util/rand

func (g *Generator) randSuffix(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, podNameChars[g.rng.IntN(len(podNameChars))])
	}
	return dst
}

func (g *Generator) uuid() string { return string(appendUUID(nil, g.rng.Uint64(), g.rng.Uint64())) }

func (g *Generator) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.rng.IntN(16)]
	}
	return string(b)
}

// appSpec: namespace, name, image, container, port.
var appSpecs = [][5]string{
	{"prod", "web", "registry.example.com/shop/web:2.14.1", "web", "8080"},
	{"prod", "api", "registry.example.com/shop/api:3.2.0", "api", "8443"},
	{"prod", "checkout", "registry.example.com/shop/checkout:1.9.7", "checkout", "8080"},
	{"prod", "worker", "registry.example.com/shop/worker:3.2.0", "worker", "9090"},
	{"payments", "payments-api", "registry.example.com/payments/api:5.0.3", "api", "8443"},
	{"payments", "ledger", "registry.example.com/payments/ledger:5.0.3", "ledger", "8080"},
	{"staging", "web", "registry.example.com/shop/web:2.15.0-rc.2", "web", "8080"},
	{"staging", "api", "registry.example.com/shop/api:3.3.0-rc.1", "api", "8443"},
	{"dev", "sandbox", "docker.io/library/nginx:1.29", "nginx", "80"},
	{"team-a", "reports", "registry.example.com/team-a/reports:0.8.1", "reports", "8080"},
	{"team-b", "search", "registry.example.com/team-b/search:1.1.0", "search", "9200"},
	{"data", "etl", "registry.example.com/data/etl:2024.11", "etl", "8080"},
	{"monitoring", "grafana", "docker.io/grafana/grafana:12.1.0", "grafana", "3000"},
	{"ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.13.0", "controller", "80"},
	{"cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.18.2", "cert-manager-controller", "9402"},
	{"kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.12.1", "coredns", "53"},
	{"kube-system", "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.8.0", "metrics-server", "10250"},
	{"argocd", "argocd-server", "quay.io/argoproj/argocd:v3.1.0", "argocd-server", "8080"},
}

var allNamespaces = []string{
	"default", "kube-system", "kube-public", "kube-node-lease", "prod", "payments", "staging", "dev",
	"team-a", "team-b", "data", "monitoring", "ingress-nginx", "cert-manager", "argocd", "ci",
}

func (g *Generator) buildWorld() {
	n := g.cfg.Nodes
	for i := range n {
		a, b := 1+i%3, 10+(i*37)%200
		nd := &node{
			name:    "ip-10-0-" + strconv.Itoa(a) + "-" + strconv.Itoa(b) + ".ec2.internal",
			ip:      "10.0." + strconv.Itoa(a) + "." + strconv.Itoa(b),
			uid:     g.uuid(),
			podCIDR: "10.244." + strconv.Itoa(i) + ".",
		}
		g.nodes = append(g.nodes, nd)
	}
	byNS := map[string]*namespaceInfo{}
	for _, ns := range allNamespaces {
		ni := &namespaceInfo{name: ns}
		byNS[ns] = ni
		g.namespaces = append(g.namespaces, ni)
	}
	for _, s := range appSpecs {
		port, _ := strconv.Atoi(s[4])
		a := &app{ns: s[0], name: s[1], image: s[2], container: s[3], port: port,
			rsHash: string(g.randSuffix(nil, 10)), deployUID: g.uuid(), rsUID: g.uuid(),
			cpu: []string{"50m", "100m", "250m", "500m"}[g.rng.IntN(4)],
			mem: []string{"64Mi", "128Mi", "256Mi", "512Mi"}[g.rng.IntN(4)]}
		a.memLimit = map[string]string{"64Mi": "128Mi", "128Mi": "256Mi", "256Mi": "512Mi", "512Mi": "1Gi"}[a.mem]
		for range 2 + g.rng.IntN(5) {
			a.pods = append(a.pods, g.newPodName(a))
		}
		byNS[a.ns].apps = append(byNS[a.ns].apps, a)
		g.apps = append(g.apps, a)
	}
	g.nsByName = byNS
}

func (g *Generator) newPodName(a *app) string {
	b := append([]byte(a.name+"-"+a.rsHash+"-"), nil...)
	return string(g.randSuffix(b, 5))
}

// userJSON renders a user.Info the way audit.k8s.io/v1 writes it.
func userJSON(name, uid string, groups []string, extra [][2]string) []byte {
	b := []byte(`{`)
	sep := false
	if name != "" {
		b = append(b, `"username":`...)
		b = appendString(b, name)
		sep = true
	}
	if uid != "" {
		b = append(b, `,"uid":`...)
		b = appendString(b, uid)
	}
	if len(groups) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"groups":[`...)
		for i, gr := range groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, gr)
		}
		b = append(b, ']')
	}
	if len(extra) > 0 { // keys must already be sorted (encoding/json sorts map keys)
		b = append(b, `,"extra":{`...)
		for i, kv := range extra {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, kv[0])
			b = append(b, ":["...)
			b = appendString(b, kv[1])
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func saUser(g *Generator, ns, sa string, pod *[2]string, nd *node) *identity {
	extra := [][2]string{{"authentication.kubernetes.io/credential-id", "JTI=" + g.uuid()}}
	if pod != nil && nd != nil {
		extra = append(extra,
			[2]string{"authentication.kubernetes.io/node-name", nd.name},
			[2]string{"authentication.kubernetes.io/node-uid", nd.uid},
			[2]string{"authentication.kubernetes.io/pod-name", pod[0]},
			[2]string{"authentication.kubernetes.io/pod-uid", pod[1]})
	}
	name := "system:serviceaccount:" + ns + ":" + sa
	return &identity{name: name, json: userJSON(name, g.uuid(),
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, extra)}
}

func x509User(g *Generator, name string, groups ...string) *identity {
	return &identity{name: name, json: userJSON(name, "", append(groups, "system:authenticated"),
		[][2]string{{"authentication.kubernetes.io/credential-id", "X509SHA256=" + g.hex(64)}})}
}

func tokenUser(name string, groups ...string) *identity {
	return &identity{name: name, json: userJSON(name, "", append(groups, "system:authenticated"), nil)}
}

// pickApp returns a random app, optionally restricted to namespace ns.
func (g *Generator) pickApp(ns string) *app {
	if ns != "" {
		if ni := g.nsByName[ns]; ni != nil && len(ni.apps) > 0 {
			return ni.apps[g.rng.IntN(len(ni.apps))]
		}
		return nil
	}
	return g.apps[g.rng.IntN(len(g.apps))]
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }
