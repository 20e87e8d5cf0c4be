package gen

import (
	"strconv"
	"strings"
)

// Request and response bodies of RequestResponse events: Pods (encoded in
// the field order of k8s.io/api/core/v1 types, map keys sorted, as the API
// server's JSON serializer writes them), DeleteOptions, patches, Status
// objects and SubjectAccessReviews.

type podMode uint8

const (
	podReqCtrl  podMode = iota // a controller's create request (generateName, from the template)
	podReqUser                 // kubectl create/run request
	podCreated                 // the stored object right after create (Pending, unscheduled)
	podRunning                 // a scheduled, running pod
	podDeleting                // a running pod being deleted (graceful)
)

// podParams are the per-request values of a pod body.
type podParams struct {
	a        *app
	name     []byte
	ns       string
	uid      string
	rv       int64
	created  int64 // µs
	started  int64 // µs
	deleteAt int64 // µs: deletionTimestamp (now + grace period)
	nd       *node
	ip       string
	vol      string // kube-api-access-xxxxx
	user     bool   // created with kubectl (no owner, no generateName)
	// privileged marks a hand-made debugging pod run privileged, as
	// `kubectl debug --profile=sysadmin` does: what body filters look for.
	privileged bool
	owner      string // set when a human's patch added debug/owner labels
	manager    string
}

func (g *Generator) hex64(dst []byte, n int) []byte {
	for n > 0 {
		v := g.rng.Uint64()
		for i := 0; i < 16 && n > 0; i++ {
			dst = append(dst, hexDigits[v&0xF])
			v >>= 4
			n--
		}
	}
	return dst
}

func (g *Generator) newPodParams(r *request) *podParams {
	p := &podParams{a: r.app, name: r.name, ns: r.ns, rv: g.rv, uid: g.uuid(), manager: "kube-controller-manager"}
	if p.a == nil {
		p.a = g.apps[0]
	}
	p.user = r.body == bPodCreateUser || strings.HasPrefix(string(r.name), "debug-")
	if p.user {
		p.manager = "kubectl-run"
		p.privileged = g.rng.IntN(4) == 0
	}
	p.nd = g.nodes[g.rng.IntN(len(g.nodes))]
	p.ip = p.nd.podCIDR + strconv.Itoa(2+g.rng.IntN(250))
	p.created = r.received - int64(g.rng.IntN(86400*3))*1e6
	if r.body == bPodCreateCtrl || r.body == bPodCreateUser {
		p.created = r.received
	}
	p.started = p.created + int64(1+g.rng.IntN(20))*1e6
	p.deleteAt = r.received + 30e6
	if r.verb == "patch" && r.a.human {
		p.owner = r.a.id.name
	}
	p.vol = string(g.randSuffix([]byte("kube-api-access-"), 5))
	return p
}

// appendPod appends a Pod as the request or response body of mode m.
func (g *Generator) appendPod(dst []byte, p *podParams, m podMode) []byte {
	dst = append(dst, `{"kind":"Pod","apiVersion":"v1","metadata":{`...)
	dst = g.appendPodMeta(dst, p, m)
	dst = append(dst, `},"spec":{`...)
	dst = appendPodSpec(dst, p, m)
	dst = append(dst, `},"status":{`...)
	switch m {
	case podCreated:
		dst = append(dst, `"phase":"Pending","qosClass":"Burstable"`...)
	case podRunning, podDeleting:
		dst = g.appendRunningStatus(dst, p)
	}
	return append(dst, `}}`...)
}

// appendPodMeta appends the fields of the Pod's metadata.
func (g *Generator) appendPodMeta(dst []byte, p *podParams, m podMode) []byte {
	server := m >= podCreated
	a := p.a
	if m != podReqCtrl || p.user {
		dst = append(dst, `"name":`...)
		dst = appendString(dst, p.name)
		dst = append(dst, ',')
	}
	if !p.user {
		dst = append(dst, `"generateName":"`...)
		dst = append(dst, a.name...)
		dst = append(dst, '-')
		dst = append(dst, a.rsHash...)
		dst = append(dst, `-",`...)
	}
	dst = append(dst, `"namespace":`...)
	dst = appendString(dst, p.ns)
	if server {
		dst = append(dst, `,"uid":"`...)
		dst = append(dst, p.uid...)
		dst = append(dst, `","resourceVersion":"`...)
		dst = strconv.AppendInt(dst, p.rv, 10)
		dst = append(dst, `","creationTimestamp":`...)
		dst = appendSecTime(dst, p.created)
	} else {
		dst = append(dst, `,"creationTimestamp":null`...)
	}
	if m == podDeleting {
		dst = append(dst, `,"deletionTimestamp":`...)
		dst = appendSecTime(dst, p.deleteAt)
		dst = append(dst, `,"deletionGracePeriodSeconds":30`...)
	}
	dst = appendPodLabels(dst, p)
	if server {
		dst = g.appendManagedFields(dst, p, m)
	}
	return dst
}

// appendPodLabels appends the Pod's labels and, for a controller's pod,
// its annotations and owner.
func appendPodLabels(dst []byte, p *podParams) []byte {
	a := p.a
	if p.user {
		dst = append(dst, `,"labels":{`...)
		dst = appendOwnerLabels(dst, p)
		dst = append(dst, `"run":`...)
		dst = appendString(dst, p.name)
		return append(dst, `}`...)
	}
	dst = append(dst, `,"labels":{"app":"`...)
	dst = append(dst, a.name...)
	dst = append(dst, `",`...)
	dst = appendOwnerLabels(dst, p)
	dst = append(dst, `"pod-template-hash":"`...)
	dst = append(dst, a.rsHash...)
	dst = append(dst, `"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-12T08:14:03Z","team.example.com/maintainer":"Platform Team \u003cplatform@example.com\u003e"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"`...)
	dst = append(dst, a.name...)
	dst = append(dst, '-')
	dst = append(dst, a.rsHash...)
	dst = append(dst, `","uid":"`...)
	dst = append(dst, a.rsUID...)
	return append(dst, `","controller":true,"blockOwnerDeletion":true}]`...)
}

// appendOwnerLabels appends the labels a human's patch added, in sorted
// key order, each followed by a comma.
func appendOwnerLabels(dst []byte, p *podParams) []byte {
	if p.owner == "" {
		return dst
	}
	dst = append(dst, `"debug":"true","owner":`...)
	dst = appendString(dst, p.owner)
	return append(dst, ',')
}

// appendPodSpec appends the fields of the Pod's spec.
func appendPodSpec(dst []byte, p *podParams, m podMode) []byte {
	server := m >= podCreated
	a := p.a
	if server {
		dst = append(dst, `"volumes":[{"name":"`...)
		dst = append(dst, p.vol...)
		dst = append(dst, `","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],`...)
	}
	dst = append(dst, `"containers":[`...)
	dst = appendContainer(dst, a, p, server)
	if !p.user && (a.ns == "prod" || a.ns == "payments") {
		dst = appendLogShipper(dst, p, server)
	}
	dst = append(dst, `],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst"`...)
	if server {
		dst = append(dst, `,"serviceAccountName":"default","serviceAccount":"default"`...)
		if m >= podRunning {
			dst = append(dst, `,"nodeName":"`...)
			dst = append(dst, p.nd.name...)
			dst = append(dst, '"')
		}
	}
	dst = append(dst, `,"securityContext":{},"schedulerName":"default-scheduler"`...)
	if server {
		dst = append(dst, `,"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0`...)
	}
	return append(dst, `,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"`...)
}

// appendLogShipper appends the sidecar of the prod and payments apps,
// after a comma.
func appendLogShipper(dst []byte, p *podParams, server bool) []byte {
	dst = append(dst, `,{"name":"log-shipper","image":"docker.io/fluent/fluent-bit:4.0.3","args":["--config=/fluent-bit/etc/fluent-bit.yaml"],"resources":{"limits":{"memory":"64Mi"},"requests":{"cpu":"10m","memory":"32Mi"}},"volumeMounts":[`...)
	if server {
		dst = append(dst, `{"name":"`...)
		dst = append(dst, p.vol...)
		dst = append(dst, `","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"},`...)
	}
	return append(dst, `{"name":"varlog","mountPath":"/var/log"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}`...)
}

func appendContainer(dst []byte, a *app, p *podParams, server bool) []byte {
	dst = append(dst, `{"name":"`...)
	dst = append(dst, a.container...)
	dst = append(dst, `","image":`...)
	dst = appendString(dst, a.image)
	if p.user {
		dst = append(dst, `,"command":["sleep","3600"],"resources":{}`...)
	} else {
		dst = append(dst, `,"ports":[{"name":"http","containerPort":`...)
		dst = strconv.AppendInt(dst, int64(a.port), 10)
		dst = append(dst, `,"protocol":"TCP"}],"env":[{"name":"APP_ENV","value":`...)
		dst = appendString(dst, a.ns)
		dst = append(dst, `},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"JAVA_OPTS","value":"-XX:MaxRAMPercentage=75 -Dlog.format=json"}],"resources":{"limits":{"memory":"`...)
		dst = append(dst, a.memLimit...)
		dst = append(dst, `"},"requests":{"cpu":"`...)
		dst = append(dst, a.cpu...)
		dst = append(dst, `","memory":"`...)
		dst = append(dst, a.mem...)
		dst = append(dst, `"}}`...)
	}
	if server {
		dst = append(dst, `,"volumeMounts":[{"name":"`...)
		dst = append(dst, p.vol...)
		dst = append(dst, `","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]`...)
	}
	if !p.user {
		dst = append(dst, `,"livenessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},"initialDelaySeconds":10,"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"readinessProbe":{"httpGet":{"path":"/ready","port":"http","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3}`...)
	}
	dst = append(dst, `,"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"`...)
	if p.privileged {
		dst = append(dst, `,"securityContext":{"privileged":true}`...)
	}
	if !p.user {
		dst = append(dst, `,"securityContext":{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"}}`...)
	}
	return append(dst, '}')
}

func (g *Generator) appendManagedFields(dst []byte, p *podParams, m podMode) []byte {
	dst = append(dst, `,"managedFields":[{"manager":"`...)
	dst = append(dst, p.manager...)
	dst = append(dst, `","operation":"Update","apiVersion":"v1","time":`...)
	dst = appendSecTime(dst, p.created)
	dst = append(dst, `,"fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{`...)
	if p.user {
		dst = append(dst, `"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"`...)
	} else {
		dst = append(dst, `"f:annotations":{".":{},"f:kubectl.kubernetes.io/restartedAt":{},"f:team.example.com/maintainer":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"`...)
		dst = append(dst, p.a.rsUID...)
		dst = append(dst, `\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"`...)
	}
	dst = append(dst, p.a.container...)
	dst = append(dst, `\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}`...)
	if m >= podRunning {
		dst = append(dst, `,{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":`...)
		dst = appendSecTime(dst, p.started)
		dst = append(dst, `,"fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"PodReadyToStartContainers\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"`...)
		dst = append(dst, p.ip...)
		dst = append(dst, `\"}":{".":{},"f:ip":{}}},"f:startTime":{}}},"subresource":"status"}`...)
	}
	return append(dst, ']')
}

func (g *Generator) appendRunningStatus(dst []byte, p *podParams) []byte {
	cond := func(dst []byte, typ string, t int64) []byte {
		dst = append(dst, `{"type":"`...)
		dst = append(dst, typ...)
		dst = append(dst, `","status":"True","lastProbeTime":null,"lastTransitionTime":`...)
		dst = appendSecTime(dst, t)
		return append(dst, '}')
	}
	dst = append(dst, `"phase":"Running","conditions":[`...)
	dst = cond(dst, "PodReadyToStartContainers", p.started)
	dst = append(dst, ',')
	dst = cond(dst, "Initialized", p.created)
	dst = append(dst, ',')
	dst = cond(dst, "Ready", p.started+5e6)
	dst = append(dst, ',')
	dst = cond(dst, "ContainersReady", p.started+5e6)
	dst = append(dst, ',')
	dst = cond(dst, "PodScheduled", p.created)
	dst = append(dst, `],"hostIP":"`...)
	dst = append(dst, p.nd.ip...)
	dst = append(dst, `","hostIPs":[{"ip":"`...)
	dst = append(dst, p.nd.ip...)
	dst = append(dst, `"}],"podIP":"`...)
	dst = append(dst, p.ip...)
	dst = append(dst, `","podIPs":[{"ip":"`...)
	dst = append(dst, p.ip...)
	dst = append(dst, `"}],"startTime":`...)
	dst = appendSecTime(dst, p.created)
	dst = append(dst, `,"containerStatuses":[{"name":"`...)
	dst = append(dst, p.a.container...)
	dst = append(dst, `","state":{"running":{"startedAt":`...)
	dst = appendSecTime(dst, p.started)
	dst = append(dst, `}},"lastState":{},"ready":true,"restartCount":0,"image":`...)
	dst = appendString(dst, p.a.image)
	dst = append(dst, `,"imageID":`...)
	img := p.a.image
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		img = img[:i]
	}
	dst = appendString(dst, img)
	dst = dst[:len(dst)-1]
	dst = append(dst, `@sha256:`...)
	dst = g.hex64(dst, 64)
	dst = append(dst, `","containerID":"containerd://`...)
	dst = g.hex64(dst, 64)
	dst = append(dst, `","started":true,"volumeMounts":[{"name":"`...)
	dst = append(dst, p.vol...)
	dst = append(dst, `","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true,"recursiveReadOnly":"Disabled"}]}],"qosClass":"Burstable"`...)
	return dst
}

// appendBodies appends ,"requestObject":...,"responseObject":... for a
// RequestResponse event at ResponseComplete.
func (g *Generator) appendBodies(dst []byte, r *request) []byte {
	if r.fail != fNone {
		withReq := r.fail != fForbidden && r.fail != fTooMany && r.fail != fUnavailable && r.verb != "delete"
		if withReq && r.body != bNone && r.body != bSAR {
			dst = append(dst, `,"requestObject":`...)
			dst = g.appendPodRequest(dst, r)
		}
		if r.fail == fTooMany || r.fail == fUnavailable {
			return dst
		}
		dst = append(dst, `,"responseObject":{"kind":"Status","apiVersion":"v1",`...)
		dst = g.appendStatusFields(dst, r)
		return append(dst, '}')
	}
	switch r.body {
	case bSAR:
		return g.appendSAR(dst, r)
	case bNone:
		return dst
	}
	dst = append(dst, `,"requestObject":`...)
	dst = g.appendPodRequest(dst, r)
	p := g.newPodParams(r)
	dst = append(dst, `,"responseObject":`...)
	switch r.body {
	case bPodCreateCtrl, bPodCreateUser:
		return g.appendPod(dst, p, podCreated)
	case bPodDelete:
		return g.appendPod(dst, p, podDeleting)
	}
	return g.appendPod(dst, p, podRunning)
}

func (g *Generator) appendPodRequest(dst []byte, r *request) []byte {
	switch r.body {
	case bPodCreateCtrl:
		return g.appendPod(dst, g.newPodParams(r), podReqCtrl)
	case bPodCreateUser:
		return g.appendPod(dst, g.newPodParams(r), podReqUser)
	case bPodDelete:
		if r.a.human {
			return append(dst, `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}`...)
		}
		dst = append(dst, `{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"`...)
		dst = appendUUID(dst, g.rng.Uint64(), g.rng.Uint64())
		return append(dst, `"}}`...)
	}
	if r.verb == "update" {
		p := g.newPodParams(r)
		p.rv -= 3
		return g.appendPod(dst, p, podRunning)
	}
	switch {
	case r.a.human:
		dst = append(dst, `{"metadata":{"labels":{"debug":"true","owner":`...)
		dst = appendString(dst, r.a.id.name)
		return append(dst, `}}}`...)
	case r.a.id.name == "system:serviceaccount:kube-system:job-controller":
		return append(dst, `{"metadata":{"finalizers":null}}`...)
	}
	dst = append(dst, `{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"`...)
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(100)-50), 10)
	return append(dst, `"}}}`...)
}

func (g *Generator) appendSAR(dst []byte, r *request) []byte {
	spec := func(dst []byte) []byte {
		dst = append(dst, `{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"nonResourceAttributes":{"path":"/metrics","verb":"get"},"user":"system:serviceaccount:monitoring:prometheus-k8s","groups":["system:serviceaccounts","system:serviceaccounts:monitoring","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=`...)
		dst = appendUUID(dst, 0x5bd3c2a1e4f60718, 0x9a0b1c2d3e4f5061)
		return append(dst, `"]},"uid":"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"},"status":`...)
	}
	dst = append(dst, `,"requestObject":`...)
	dst = spec(dst)
	dst = append(dst, `{"allowed":false}}`...)
	dst = append(dst, `,"responseObject":`...)
	dst = spec(dst)
	return append(dst, `{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding \"prometheus-k8s\" of ClusterRole \"prometheus-k8s\" to ServiceAccount \"prometheus-k8s/monitoring\""}}`...)
}
