package gen

// The operation menus of each actor. Weights are relative within a menu.
// Long-running requests (watch, exec, logs -f) are kept to a few percent,
// as in real clusters where most informers hold one watch per resource for
// 5–10 minutes.

// watches returns one informer watch op per resource, all namespaces.
func watches(w float64, rs ...*resource) []op {
	out := make([]op, 0, len(rs))
	for _, r := range rs {
		out = append(out, rq(w, "watch", r, "", nmNone, qWatch, ""))
	}
	return out
}

// lists returns one informer (re)list op per resource, all namespaces.
func lists(w float64, rs ...*resource) []op {
	out := make([]op, 0, len(rs))
	for _, r := range rs {
		out = append(out, rq(w, "list", r, "", nmNone, qList, ""))
	}
	return out
}

func menu(parts ...[]op) []op {
	var out []op
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ops(o ...op) []op { return o }

func eventsV1(w float64) op { return rq(w, "create", rEventsV1, "*", nmEvent, qTimeout, "10s") }

var discovery = ops(
	nr(1, "/api?timeout=32s", rsDiscovery),
	nr(1, "/apis?timeout=32s", rsDiscovery),
)

var kubeletOps = menu(ops(
	rq(24, "update", rLeases, "kube-node-lease", nmSelfNode, qTimeout, "10s"),
	rq(12, "get", rNodes, "", nmSelfNode, qRaw, "?resourceVersion=0&timeout=10s"),
	rq(6, "patch", rNodes, "", nmSelfNode, qTimeout, "10s").sr("status"),
	rq(8, "get", rPods, "*", nmPod, qNone, ""),
	rq(6, "patch", rPods, "*", nmPod, qNone, "").sr("status"),
	rq(2.5, "create", rSAs, "*", nmApp, qNone, "").sr("token"),
	rq(3, "create", rEvents, "*", nmEvent, qNone, ""),
	rq(1, "patch", rEvents, "*", nmEvent, qNone, ""),
	rq(0.5, "get", rCSINodes, "", nmSelfNode, qNone, ""),
	rq(2, "get", rConfigMaps, "*", nmCM, qNone, ""),
	rq(1, "get", rSecrets, "*", nmSecret, qNone, ""),
	rq(0.35, "watch", rPods, "", nmNone, qWatch, "node"),
	rq(0.35, "watch", rConfigMaps, "*", nmCM, qWatch, "name"),
	rq(0.25, "watch", rSecrets, "*", nmSecret, qWatch, "name"),
	rq(0.1, "watch", rNodes, "", nmSelfNode, qWatch, "name"),
), watches(0.05, rServices, rRuntimeClass, rCSINodes))

var kcmOps = menu(ops(
	rq(20, "get", rLeases, "kube-system", nmFixed, qTimeout, "5s").fx("kube-controller-manager"),
	rq(20, "update", rLeases, "kube-system", nmFixed, qTimeout, "5s").fx("kube-controller-manager"),
	rq(3, "get", rConfigMaps, "kube-system", nmFixed, qNone, "").fx("extension-apiserver-authentication"),
	rq(1, "create", rTokenReviews, "", nmNone, qNone, ""),
	rq(0.4, "create", rSARs, "", nmNone, qNone, ""),
), watches(0.1, rPods, rNodes, rDeployments, rReplicaSets, rSlices, rServices, rConfigMaps, rSecrets,
	rSAs, rJobs, rNamespaces, rStatefulSets, rDaemonSets, rPVCs, rLeases),
	lists(0.04, rPods, rNodes, rReplicaSets, rDeployments))

var apiserverOps = menu(ops(
	rq(12, "get", rLeases, "kube-system", nmFixed, qNone, "").fx("apiserver-6tcqbcq3zhquonkjm5bbdrfxiu"),
	rq(6, "update", rLeases, "kube-system", nmFixed, qNone, "").fx("apiserver-6tcqbcq3zhquonkjm5bbdrfxiu"),
	rq(4, "get", rEndpoints, "default", nmFixed, qNone, "").fx("kubernetes"),
	rq(4, "get", rSlices, "default", nmFixed, qNone, "").fx("kubernetes"),
	rq(3, "get", rServices, "default", nmFixed, qNone, "").fx("kubernetes"),
	rq(2, "get", rNamespaces, "kube-system", nmNS, qNone, ""),
	rq(1, "list", rLeases, "kube-system", nmNone, qRaw, "?labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver"),
	rq(0.5, "get", rFlowSchemas, "", nmFixed, qNone, "").fx("exempt"),
	rq(0.5, "get", rPriorityClass, "", nmFixed, qNone, "").fx("system-node-critical"),
), watches(0.08, rFlowSchemas, rCRDs, rVWCs, rNamespaces, rRoles, rRoleBindings, rClusterRoles, rCRBs,
	rSecrets, rConfigMaps, rServices, rEndpoints))

var endpointSliceOps = menu(ops(
	rq(7, "update", rSlices, "*", nmSlice, qNone, ""),
	rq(2, "get", rServices, "*", nmApp, qNone, ""),
	rq(0.6, "create", rSlices, "*", nmSlice, qNone, ""),
	rq(0.3, "delete", rSlices, "*", nmSlice, qNone, ""),
	eventsV1(0.5),
), watches(0.05, rSlices, rPods, rServices, rNodes))

var replicaSetOps = menu(ops(
	rq(5, "update", rReplicaSets, "*", nmRS, qNone, "").sr("status"),
	rq(3, "create", rPods, "*", nmNone, qNone, ""),
	rq(1.2, "delete", rPods, "*", nmPod, qNone, ""),
	eventsV1(2.5),
), watches(0.04, rReplicaSets, rPods))

var deploymentOps = menu(ops(
	rq(5, "update", rDeployments, "*", nmApp, qNone, "").sr("status"),
	rq(2, "update", rReplicaSets, "*", nmRS, qNone, ""),
	rq(0.3, "create", rReplicaSets, "*", nmRS, qNone, ""),
	eventsV1(1),
), watches(0.04, rDeployments, rReplicaSets, rPods))

var schedOps = menu(ops(
	rq(14, "get", rLeases, "kube-system", nmFixed, qTimeout, "5s").fx("kube-scheduler"),
	rq(14, "update", rLeases, "kube-system", nmFixed, qTimeout, "5s").fx("kube-scheduler"),
	rq(5, "create", rPods, "*", nmPod, qNone, "").sr("binding"),
	eventsV1(3),
	rq(0.4, "patch", rPods, "*", nmPod, qNone, "").sr("status"),
	rq(0.05, "watch", rPods, "", nmNone, qWatch, "phase"),
), watches(0.05, rNodes, rPVCs, rPVs, rCSINodes, rStorageClass, rServices, rNamespaces, rPDBs))

var prometheusOps = menu(ops(
	nr(10, "/metrics", crb("prometheus-k8s", "prometheus-k8s", saSubject("monitoring", "prometheus-k8s"))),
	rq(0.5, "get", rConfigMaps, "monitoring", nmFixed, qNone, "").fx("prometheus-k8s-rulefiles-0"),
), watches(0.06, rPods, rEndpoints, rSlices, rServices, rNodes, rIngresses), lists(0.02, rPods, rSlices))

var argocdOps = menu(ops(
	rq(6, "get", rApplications, "argocd", nmApp, qNone, ""),
	rq(4, "patch", rApplications, "argocd", nmApp, qNone, ""),
	rq(2, "get", rDeployments, "*", nmApp, qNone, ""),
	rq(1, "get", rServices, "*", nmApp, qNone, ""),
	rq(0.6, "list", rDeployments, "*", nmNone, qRaw, "?limit=500"),
	rq(0.4, "patch", rDeployments, "*", nmApp, qRaw, "?fieldManager=argocd-controller&force=true"),
	rq(0.2, "list", rPods, "", nmNone, qList, ""),
	nr(0.3, "/apis?timeout=32s", rsDiscovery),
), watches(0.06, rApplications, rDeployments, rReplicaSets, rPods, rServices, rConfigMaps, rSecrets, rIngresses))

var ingressOps = menu(ops(
	rq(8, "get", rLeases, "ingress-nginx", nmFixed, qNone, "").fx("ingress-nginx-leader"),
	rq(8, "update", rLeases, "ingress-nginx", nmFixed, qNone, "").fx("ingress-nginx-leader").
		why(`RBAC: allowed by RoleBinding "ingress-nginx/ingress-nginx" of Role "ingress-nginx" to ServiceAccount "ingress-nginx/ingress-nginx"`),
	rq(0.6, "update", rIngresses, "*", nmApp, qNone, "").sr("status"),
), watches(0.08, rIngresses, rServices, rSlices, rSecrets, rConfigMaps))

const rsAuthDelegator = `RBAC: allowed by ClusterRoleBinding "metrics-server:system:auth-delegator" of ClusterRole "system:auth-delegator" to ServiceAccount "metrics-server/kube-system"`

var metricsServerOps = menu(ops(
	rq(5, "create", rTokenReviews, "", nmNone, qNone, "").why(rsAuthDelegator),
	rq(1.5, "create", rSARs, "", nmNone, qNone, "").why(rsAuthDelegator),
	rq(1, "list", rNodes, "", nmNone, qRaw, "?limit=500&resourceVersion=0"),
	rq(1.5, "get", rNodes, "", nmNode, qNone, ""),
), watches(0.02, rNodes, rPods, rConfigMaps))

var certManagerOps = menu(ops(
	rq(6, "get", rLeases, "kube-system", nmFixed, qNone, "").fx("cert-manager-controller"),
	rq(6, "update", rLeases, "kube-system", nmFixed, qNone, "").fx("cert-manager-controller"),
	rq(1, "get", rSecrets, "*", nmSecret, qNone, ""),
	rq(0.6, "update", rCertificates, "*", nmApp, qNone, "").sr("status"),
	rq(0.3, "list", rCertificates, "", nmNone, qRaw, "?limit=500"),
), watches(0.05, rCertificates, rSecrets, rIngresses))

var gcOps = menu(discovery, ops(
	nr(0.5, "/apis/metrics.k8s.io/v1beta1?timeout=32s", rsDiscovery),
	rq(0.2, "delete", rPods, "*", nmPod, qNone, ""),
	rq(0.2, "delete", rReplicaSets, "*", nmRS, qNone, ""),
), lists(0.05, rRevisions, rLeases, rRoles, rEvents), watches(0.02, rRevisions, rLeases, rSAs, rCronJobs))

var quotaOps = menu(ops(
	nr(2, "/apis/metrics.k8s.io/v1beta1?timeout=32s", rsDiscovery),
	nr(2, "/apis/apps/v1?timeout=32s", rsDiscovery),
	nr(1, "/apis/batch/v1?timeout=32s", rsDiscovery),
	nr(1, "/apis/networking.k8s.io/v1?timeout=32s", rsDiscovery),
	nr(1, "/apis/coordination.k8s.io/v1?timeout=32s", rsDiscovery),
	rq(0.5, "update", rQuotas, "*", nmFixed, qNone, "").fx("compute-resources").sr("status"),
), watches(0.02, rQuotas))

var namespaceOps = menu(ops(
	rq(1, "get", rNamespaces, "~", nmNS, qNone, ""),
	rq(0.3, "list", rConfigMaps, "*", nmNone, qNone, ""),
), watches(0.02, rNamespaces))

var nodeCtrlOps = menu(ops(
	rq(1, "patch", rNodes, "", nmNode, qNone, ""),
	rq(0.5, "update", rNodes, "", nmNode, qNone, "").sr("status"),
	rq(0.3, "list", rPods, "", nmNone, qRaw, "node"),
), watches(0.02, rLeases, rNodes))

var hpaOps = menu(ops(
	rq(2, "get", rDeployments, "*", nmApp, qNone, "").sr("scale"),
	rq(2, "update", rHPAs, "*", nmApp, qNone, "").sr("status"),
	rq(2, "list", rPodMetrics, "*", nmNone, qRaw, "label"),
), watches(0.02, rHPAs))

var jobOps = menu(ops(
	rq(1, "update", rJobs, "data", nmApp, qNone, "").sr("status"),
	rq(0.6, "create", rPods, "data", nmNone, qNone, ""),
	rq(0.6, "patch", rPods, "data", nmPod, qNone, ""),
), watches(0.02, rJobs, rPods))

var dsOps = menu(ops(
	rq(1, "update", rDaemonSets, "kube-system", nmFixed, qNone, "").fx("kube-proxy").sr("status"),
	rq(0.1, "create", rRevisions, "kube-system", nmFixed, qNone, "").fx("kube-proxy-6d4b9c8f5d"),
), watches(0.02, rDaemonSets, rRevisions))

var stsOps = menu(ops(
	rq(1, "update", rStatefulSets, "data", nmFixed, qNone, "").fx("postgres").sr("status"),
	rq(0.5, "get", rPVCs, "data", nmFixed, qNone, "").fx("data-postgres-0"),
), watches(0.02, rStatefulSets, rPVCs))

var saCtrlOps = menu(ops(rq(1, "get", rSAs, "~", nmFixed, qNone, "").fx("default")), watches(0.02, rSAs))

var cronOps = menu(ops(
	rq(1, "update", rCronJobs, "data", nmFixed, qNone, "").fx("nightly-export").sr("status"),
	rq(0.1, "create", rJobs, "data", nmFixed, qNone, "").fx("nightly-export-29461980"),
), watches(0.02, rCronJobs))

var podGCOps = ops(rq(1, "list", rPods, "", nmNone, qRaw, "?fieldSelector=status.phase%3DFailed"),
	rq(0.3, "list", rNodes, "", nmNone, qNone, ""))

var ksmOps = menu(lists(1, rPods, rDeployments, rReplicaSets, rNodes, rNamespaces, rConfigMaps, rSecrets,
	rServices, rJobs, rCronJobs, rPVCs, rLeases), watches(0.1, rPods, rDeployments, rNodes))

var anonOps = ops(
	nr(4, "/livez", ""),
	nr(4, "/readyz", ""),
	nr(1, "/healthz", ""),
	nr(0.2, "/version", ""),
)

var kubeProxyOps = menu(ops(rq(1, "get", rNodes, "", nmNode, qNone, "")), watches(0.2, rServices, rSlices, rNodes))

var corednsOps = menu(lists(0.1, rSlices, rServices, rNamespaces), watches(0.2, rSlices, rServices, rNamespaces))

// humanOps: kubectl users with edit rights in their namespaces.
var humanOps = menu(discovery, ops(
	nr(0.4, "/openapi/v3?timeout=32s", rsDiscovery),
	nr(0.2, "/version?timeout=32s", rsPublic),
	rq(5, "list", rPods, "@", nmNone, qKList, ""),
	rq(3, "get", rPods, "@", nmPod, qNone, ""),
	rq(2, "get", rDeployments, "@", nmApp, qNone, ""),
	rq(1, "list", rDeployments, "@", nmNone, qKList, ""),
	rq(1, "list", rServices, "@", nmNone, qKList, ""),
	rq(0.8, "list", rEvents, "@", nmNone, qKList, ""),
	rq(0.5, "get", rConfigMaps, "@", nmCM, qNone, ""),
	rq(1.5, "get", rPods, "@", nmPod, qLog, "").sr("log"),
	rq(0.35, "get", rPods, "@", nmPod, qLogF, "").sr("log"),
	rq(0.25, "create", rPods, "@", nmPod, qExec, "").sr("exec"),
	rq(0.15, "get", rPods, "@", nmPod, qExec, "").sr("exec"),
	rq(0.06, "create", rPods, "@", nmPod, qPortFwd, "").sr("portforward"),
	rq(0.6, "patch", rDeployments, "@", nmApp, qKApply, ""),
	rq(0.2, "patch", rDeployments, "@", nmApp, qNone, "").sr("scale"),
	rq(0.25, "create", rPods, "@", nmPod, qKCreate, ""),
	rq(0.3, "delete", rPods, "@", nmPod, qNone, ""),
	rq(0.25, "patch", rPods, "@", nmPod, qNone, ""),
	rq(0.2, "watch", rPods, "@", nmNone, qKWatch, ""),
	rq(0.2, "create", rSSARs, "", nmNone, qNone, "").why(rsBasic),
))

var viewerOps = menu(discovery, ops(
	rq(5, "list", rPods, "@", nmNone, qKList, ""),
	rq(3, "get", rPods, "@", nmPod, qNone, ""),
	rq(1, "list", rDeployments, "@", nmNone, qKList, ""),
	rq(1.5, "get", rPods, "@", nmPod, qLog, "").sr("log"),
	rq(0.3, "get", rPods, "@", nmPod, qLogF, "").sr("log"),
	rq(0.8, "list", rEvents, "@", nmNone, qKList, ""),
))

var adminOps = menu(discovery, ops(
	nr(0.5, "/openapi/v2?timeout=32s", rsDiscovery), // Helm validates manifests against OpenAPI v2
	rq(3, "list", rSecrets, "@", nmNone, qRaw, "?labelSelector=owner%3Dhelm"),
	rq(0.5, "create", rSecrets, "@", nmSecret, qNone, ""),
	rq(1, "get", rDeployments, "@", nmApp, qNone, ""),
	rq(1, "patch", rDeployments, "@", nmApp, qNone, ""),
	rq(0.5, "patch", rServices, "@", nmApp, qNone, ""),
	rq(0.5, "get", rConfigMaps, "@", nmCM, qNone, ""),
	rq(0.3, "update", rConfigMaps, "@", nmCM, qNone, ""),
	rq(0.2, "delete", rConfigMaps, "@", nmCM, qNone, ""),
	rq(0.3, "patch", rPods, "@", nmPod, qNone, ""),
))

var ciOps = menu(discovery, ops(
	nr(0.5, "/openapi/v3?timeout=32s", rsDiscovery),
	rq(2, "get", rDeployments, "@", nmApp, qNone, ""),
	rq(1.5, "patch", rDeployments, "@", nmApp, qKApply, ""),
	rq(1, "get", rConfigMaps, "@", nmCM, qNone, ""),
	rq(0.8, "patch", rConfigMaps, "@", nmCM, qKApply, ""),
	rq(1, "list", rPods, "@", nmNone, qRaw, "label"),
	rq(0.15, "watch", rDeployments, "@", nmApp, qWatch, "name"),
))
