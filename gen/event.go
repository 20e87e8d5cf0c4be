package gen

import (
	"strconv"
	"time"
)

// Serialisation of one event, in the field order of audit.k8s.io/v1 Event.

const (
	hdrMetadata = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"`
	hdrRR       = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"`
)

func (g *Generator) writeEvent(dst []byte, r *request, st stage) []byte {
	if r.rr {
		dst = append(dst, hdrRR...)
	} else {
		dst = append(dst, hdrMetadata...)
	}
	dst = append(dst, r.auditID[:]...)
	if st == stageStarted {
		dst = append(dst, `","stage":"ResponseStarted","requestURI":`...)
	} else {
		dst = append(dst, `","stage":"ResponseComplete","requestURI":`...)
	}
	dst = appendString(dst, r.uri)
	dst = append(dst, `,"verb":"`...)
	dst = append(dst, r.verb...)
	dst = append(dst, `","user":`...)
	dst = append(dst, r.user...)
	if r.imp != nil {
		dst = append(dst, `,"impersonatedUser":`...)
		dst = append(dst, r.imp...)
	}
	dst = append(dst, `,"sourceIPs":`...)
	dst = append(dst, r.a.ips...)
	dst = append(dst, `,"userAgent":`...)
	dst = append(dst, r.a.ua...)
	if r.r != nil {
		dst = g.appendObjectRef(dst, r)
	}
	dst = append(dst, `,"responseStatus":`...)
	if r.fail == fNone {
		dst = appendSuccessStatus(dst, r)
	} else {
		dst = append(dst, '{')
		dst = g.appendStatusFields(dst, r)
		dst = append(dst, '}')
	}
	if r.rr && st == stageComplete {
		dst = g.appendBodies(dst, r)
	}
	dst = append(dst, `,"requestReceivedTimestamp":`...)
	dst = appendTime(dst, r.received)
	dst = append(dst, `,"stageTimestamp":`...)
	dst = appendTime(dst, r.stageT)
	latAnn := r.latAnn && st == stageComplete
	podSec := r.podSec && st == stageComplete
	if r.decision != 0 || latAnn || podSec {
		dst = append(dst, `,"annotations":{`...)
		n := len(dst)
		if latAnn {
			dst = g.appendLatencyAnnotations(dst, r)
		}
		if r.decision != 0 {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			if r.decision == 'f' {
				dst = append(dst, `"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":`...)
			} else {
				dst = append(dst, `"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":`...)
			}
			dst = append(dst, r.reason...)
		}
		if podSec {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, `"pod-security.kubernetes.io/enforce-policy":"`...)
			switch r.ns {
			case "kube-system", "monitoring", "ingress-nginx":
				dst = append(dst, "privileged"...)
			case "prod", "payments":
				dst = append(dst, "restricted"...)
			default:
				dst = append(dst, "baseline"...)
			}
			dst = append(dst, `:latest"`...)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n')
}

func (g *Generator) appendObjectRef(dst []byte, r *request) []byte {
	dst = append(dst, `,"objectRef":{"resource":"`...)
	dst = append(dst, r.r.name...)
	dst = append(dst, '"')
	if r.ns != "" {
		dst = append(dst, `,"namespace":`...)
		dst = appendString(dst, r.ns)
	}
	// For a create the name comes from the decoded body, which a request
	// refused before the handler never has.
	nameFromBody := r.verb == "create" && r.sub == ""
	if len(r.name) > 0 && !r.genName && !(nameFromBody && (r.fail == fForbidden || r.fail == fUnauth || r.fail == fTooMany)) {
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, r.name)
	}
	if r.hasUID && r.fail != fForbidden && r.fail != fUnauth && r.fail != fTooMany {
		dst = append(dst, `,"uid":"`...)
		dst = append(dst, r.objUID[:]...)
		dst = append(dst, '"')
	}
	if r.r.group != "" {
		dst = append(dst, `,"apiGroup":"`...)
		dst = append(dst, r.r.group...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"apiVersion":"`...)
	dst = append(dst, r.r.version...)
	dst = append(dst, '"')
	if r.objRV != 0 && r.hasUID && r.fail != fForbidden && r.fail != fUnauth && r.fail != fTooMany {
		dst = append(dst, `,"resourceVersion":"`...)
		dst = strconv.AppendInt(dst, r.objRV, 10)
		dst = append(dst, '"')
	}
	if r.sub != "" {
		dst = append(dst, `,"subresource":"`...)
		dst = append(dst, r.sub...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

func appendSuccessStatus(dst []byte, r *request) []byte {
	if r.verb == "delete" && r.r != nil && r.r != rPods && r.sub == "" {
		// Most resources answer a delete with a Status, whose bounded
		// fields the audit log copies.
		dst = append(dst, `{"metadata":{},"status":"Success","details":{"name":`...)
		dst = appendString(dst, r.name)
		dst = appendGroupKind(dst, r.r.group, r.r.name)
		dst = append(dst, `,"uid":"`...)
		dst = appendUUID(dst, uint64(len(r.name))*0x9e3779b97f4a7c15^uint64(r.received), uint64(r.received))
		return append(dst, `"},"code":200}`...)
	}
	dst = append(dst, `{"metadata":{},"code":`...)
	dst = strconv.AppendInt(dst, int64(r.code), 10)
	return append(dst, '}')
}

func appendGroupKind(dst []byte, group, kind string) []byte {
	if group != "" {
		dst = append(dst, `,"group":"`...)
		dst = append(dst, group...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"kind":"`...)
	dst = append(dst, kind...)
	return append(dst, '"')
}

// appendStatusFields appends the fields of a failure metav1.Status after
// "metadata" (without the braces), as the audit log copies them.
func (g *Generator) appendStatusFields(dst []byte, r *request) []byte {
	dst = append(dst, `"metadata":{}`...)
	switch r.fail {
	case fTooMany, fUnavailable: // plain-text errors: only the code is known
		dst = append(dst, `,"code":`...)
		dst = strconv.AppendInt(dst, int64(r.code), 10)
		return dst
	case fUnauth:
		return append(dst, `,"message":"Authentication failed, attempted: bearer","code":401`...)
	}
	msg, reason, cause := statusMessage(g.scratch[:0], r)
	g.scratch = msg
	dst = append(dst, `,"status":"Failure","message":`...)
	dst = appendString(dst, msg)
	dst = append(dst, `,"reason":"`...)
	dst = append(dst, reason...)
	dst = append(dst, `","details":{`...)
	dst = appendStatusDetails(dst, r, cause)
	dst = append(dst, `},"code":`...)
	return strconv.AppendInt(dst, int64(r.code), 10)
}

// statusCause is a StatusCause: reason, message, field.
type statusCause [3]string

// statusMessage appends the message of r's failure Status to msg, and
// returns it with the Status's reason and, for Invalid and InternalError,
// its cause.
func statusMessage(msg []byte, r *request) (_ []byte, reason string, cause statusCause) {
	switch r.fail {
	case fForbidden:
		return appendForbidden(msg, r), "Forbidden", cause
	case fNotFound:
		return append(appendNamed(msg, r), " not found"...), "NotFound", cause
	case fExists:
		return append(appendNamed(msg, r), " already exists"...), "AlreadyExists", cause
	case fConflict:
		msg = append(msg, "Operation cannot be fulfilled on "...)
		return append(appendNamed(msg, r), ": the object has been modified; please apply your changes to the latest version and try again"...), "Conflict", cause
	case fInvalid:
		cause = invalidCause(r)
		msg = append(msg, r.r.kind...)
		if r.r.group != "" {
			msg = append(msg, '.')
			msg = append(msg, r.r.group...)
		}
		msg = append(msg, ` "`...)
		msg = append(msg, r.name...)
		msg = append(msg, `" is invalid: `...)
		msg = append(msg, cause[2]...)
		msg = append(msg, ": "...)
		return append(msg, cause[1]...), "Invalid", cause
	case fInternal:
		cause[1] = "etcdserver: leader changed"
		if r.verb == "create" || r.verb == "update" || r.verb == "patch" {
			cause[1] = `failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": context deadline exceeded`
		}
		msg = append(msg, "Internal error occurred: "...)
		return append(msg, cause[1]...), "InternalError", cause
	}
	return msg, "", cause
}

// appendNamed appends the qualified resource and the quoted name, if any.
func appendNamed(m []byte, r *request) []byte {
	if r.r != nil {
		m = append(m, r.r.qualified...)
	}
	if len(r.name) > 0 {
		m = append(m, ' ', '"')
		m = append(m, r.name...)
		m = append(m, '"')
	}
	return m
}

// appendForbidden appends the RBAC authorizer's denial message.
func appendForbidden(msg []byte, r *request) []byte {
	if r.r == nil {
		msg = append(msg, "forbidden: "...)
	} else {
		if r.verb == "create" && r.sub == "" {
			msg = append(msg, r.r.qualified...) // the name is in the body, not known yet
		} else {
			msg = appendNamed(msg, r)
		}
		msg = append(msg, " is forbidden: "...)
	}
	user := r.a.id.name
	if r.imp != nil {
		user = r.impName
	}
	msg = append(msg, `User "`...)
	msg = append(msg, user...)
	msg = append(msg, `" cannot `...)
	msg = append(msg, r.verb...)
	if r.r == nil {
		msg = append(msg, ` path "`...)
		msg = append(msg, r.o.fixed...)
		return append(msg, '"')
	}
	msg = append(msg, ` resource "`...)
	msg = append(msg, r.r.name...)
	if r.sub != "" {
		msg = append(msg, '/')
		msg = append(msg, r.sub...)
	}
	msg = append(msg, `" in API group "`...)
	msg = append(msg, r.r.group...)
	if r.ns == "" {
		return append(msg, `" at the cluster scope`...)
	}
	msg = append(msg, `" in the namespace "`...)
	msg = append(msg, r.ns...)
	return append(msg, '"')
}

// invalidCause is the validation failure of an Invalid r.
func invalidCause(r *request) statusCause {
	switch {
	case r.r == rPods && r.verb == "patch":
		return statusCause{"FieldValueForbidden", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)", "spec"}
	case r.r == rPods:
		return statusCause{"FieldValueRequired", "Required value", "spec.containers[0].image"}
	case r.r == rDeployments:
		return statusCause{"FieldValueInvalid", `Invalid value: map[string]string{"app":"` + string(r.name) + `-v2"}: ` + "`selector` does not match template `labels`", "spec.template.metadata.labels"}
	}
	return statusCause{"FieldValueInvalid", `Invalid value: "release/v2.1": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`, "metadata.labels"}
}

// appendStatusDetails appends the fields of the Status's details (without
// the braces).
func appendStatusDetails(dst []byte, r *request, cause statusCause) []byte {
	n := len(dst)
	switch {
	case r.fail == fInternal:
		dst = append(dst, `"causes":[{"message":`...)
		dst = appendString(dst, cause[1])
		dst = append(dst, `}]`...)
	case r.fail == fInvalid:
		dst = append(dst, `"name":`...)
		dst = appendString(dst, r.name)
		dst = appendGroupKind(dst, r.r.group, r.r.kind)
		dst = append(dst, `,"causes":[{"reason":"`...)
		dst = append(dst, cause[0]...)
		dst = append(dst, `","message":`...)
		dst = appendString(dst, cause[1])
		dst = append(dst, `,"field":"`...)
		dst = append(dst, cause[2]...)
		dst = append(dst, `"}]`...)
	case r.r != nil:
		if len(r.name) > 0 && !(r.fail == fForbidden && r.verb == "create" && r.sub == "") {
			dst = append(dst, `"name":`...)
			dst = appendString(dst, r.name)
		}
		dst = appendGroupKind(dst, r.r.group, r.r.name)
		if dst[n] == ',' { // no name: drop the leading comma
			dst = append(dst[:n], dst[n+1:]...)
		}
	}
	return dst
}

// Latency annotation keys, in encoding/json's sorted map-key order.
var latencyKeys = [...]string{
	`"apiserver.latency.k8s.io/admission":`,
	`"apiserver.latency.k8s.io/apf-queue-wait":`,
	`"apiserver.latency.k8s.io/authentication":`,
	`"apiserver.latency.k8s.io/authorization":`,
	`"apiserver.latency.k8s.io/etcd":`,
	`"apiserver.latency.k8s.io/mutating-webhook":`,
	`"apiserver.latency.k8s.io/response-write":`,
	`"apiserver.latency.k8s.io/serialize-response-object":`,
	`"apiserver.latency.k8s.io/total":`,
	`"apiserver.latency.k8s.io/transform-response-object":`,
	`"apiserver.latency.k8s.io/validating-webhook":`,
}

const (
	phAdmission = iota
	phAPF
	phAuthn
	phAuthz
	phEtcd
	phMutating
	phWrite
	phSerialize
	phTotal
	phTransform
	phValidating
)

// appendLatencyAnnotations splits the request's duration into the phases the
// API server's latency trackers report; one phase dominates.
func (g *Generator) appendLatencyAnnotations(dst []byte, r *request) []byte {
	var ph [len(latencyKeys)]int64 // ns; 0 = not reported
	total := (r.stageT-r.received)*1000 - int64(20_000+g.rng.IntN(130_000))
	ph[phTotal] = total
	ph[phAuthn] = int64(2_000 + g.rng.IntN(60_000))
	ph[phAuthz] = int64(1_000 + g.rng.IntN(40_000))
	rest := float64(total - ph[phAuthn] - ph[phAuthz])
	dom := rest * (0.6 + 0.35*g.rng.Float64())
	small := func(f float64) int64 { return int64((rest - dom) * f * g.rng.Float64()) }
	write := r.verb == "create" || r.verb == "update" || r.verb == "patch" || r.verb == "delete"
	x := g.rng.Float64()
	if write {
		ph[phEtcd] = small(0.5)
		ph[phAdmission] = small(0.3)
		switch {
		case x < 0.45:
			ph[phEtcd] = int64(dom)
		case x < 0.65:
			ph[phMutating] = int64(dom)
		case x < 0.85:
			ph[phValidating] = int64(dom)
		default:
			ph[phAPF] = int64(dom)
		}
		ph[phAdmission] += ph[phMutating] + ph[phValidating]
	} else {
		ph[phEtcd] = small(0.4)
		ph[phSerialize] = small(0.3)
		ph[phTransform] = int64(500 + g.rng.IntN(20_000))
		ph[phWrite] = int64(800 + g.rng.IntN(30_000))
		switch {
		case x < 0.5:
			ph[phEtcd] = int64(dom)
		case x < 0.7:
			ph[phAPF] = int64(dom)
		case x < 0.85:
			ph[phSerialize] = int64(dom)
		default:
			ph[phWrite] = int64(dom)
		}
	}
	if ph[phAPF] == 0 && g.chance(0.4) {
		ph[phAPF] = int64(1_000 + g.rng.IntN(50_000))
	}
	first := true
	for i, v := range ph {
		if v <= 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, latencyKeys[i]...)
		dst = appendDuration(dst, time.Duration(v))
	}
	return dst
}
