package cloud

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"
)

// gkeEntry is the part of a GKE LogEntry an event is made of.
type gkeEntry struct {
	ProtoPayload *gkePayload       `json:"protoPayload"`
	Labels       map[string]string `json:"labels"`
	Operation    *gkeOperation     `json:"operation"`
	Resource     struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
	Timestamp json.RawMessage `json:"timestamp"`
}

type gkePayload struct {
	ServiceName        string `json:"serviceName"`
	MethodName         string `json:"methodName"`
	ResourceName       string `json:"resourceName"`
	AuthenticationInfo struct {
		PrincipalEmail   string `json:"principalEmail"`
		PrincipalSubject string `json:"principalSubject"`
	} `json:"authenticationInfo"`
	RequestMetadata struct {
		CallerIP                string `json:"callerIp"`
		CallerSuppliedUserAgent string `json:"callerSuppliedUserAgent"`
	} `json:"requestMetadata"`
	Status *struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type gkeOperation struct {
	ID    string `json:"id"`
	First bool   `json:"first"`
	Last  bool   `json:"last"`
}

// v1Event is the audit.k8s.io/v1 Event a GKE entry becomes; fields the
// entry does not carry stay empty and are left out.
type v1Event struct {
	Kind           string            `json:"kind"`
	APIVersion     string            `json:"apiVersion"`
	AuditID        string            `json:"auditID,omitempty"`
	Stage          string            `json:"stage"`
	RequestURI     string            `json:"requestURI,omitempty"`
	Verb           string            `json:"verb,omitempty"`
	User           v1User            `json:"user"`
	SourceIPs      []string          `json:"sourceIPs,omitempty"`
	UserAgent      string            `json:"userAgent,omitempty"`
	ObjectRef      *v1ObjectRef      `json:"objectRef,omitempty"`
	ResponseStatus *v1Status         `json:"responseStatus,omitempty"`
	StageTimestamp string            `json:"stageTimestamp,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
}

type v1User struct {
	Username string `json:"username,omitempty"`
}

type v1Status struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
}

// gkeReference is the first GKE decoder, on encoding/json: the fast one
// (gke.go) must give the same events (FuzzGKEReference). raw, when not
// nil, is v's own bytes.
// The bodies, most of an entry's bytes, are taken out first and written
// back as they are, less "@type": only the small rest goes through
// encoding/json.
func (d *decoder) gkeReference(v *fastjson.Value, raw []byte, line int64) {
	var req, resp []byte
	if pp := v.Get("protoPayload"); pp != nil && pp.Type() == fastjson.TypeObject {
		req, resp = withoutType(pp.Get("request")), withoutType(pp.Get("response"))
		pp.Del("request")
		pp.Del("response")
	}
	var e gkeEntry
	if raw == nil {
		raw = v.MarshalTo(nil)
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.ProtoPayload == nil {
		d.problem(line, Unrecognised, "a Cloud Logging entry whose fields have unexpected types")
		return
	}
	p := e.ProtoPayload
	if p.ServiceName == "" && p.MethodName == "" {
		d.problem(line, NoEvent, "Cloud Logging entry without serviceName or methodName")
		return
	}
	// Some exports leave serviceName out; the method name still says k8s.
	if p.ServiceName != "k8s.io" && (p.ServiceName != "" || !strings.HasPrefix(p.MethodName, "io.k8s.")) {
		d.problem(line, SkippedOther, fmt.Sprintf("Cloud Audit Log entry for %q, not k8s.io; skipped", p.ServiceName))
		return
	}
	if p.MethodName == "" {
		d.problem(line, NoEvent, "GKE entry without protoPayload.methodName")
		return
	}
	ev := v1Event{Kind: "Event", APIVersion: "audit.k8s.io/v1", Stage: "ResponseComplete", Annotations: e.Labels}
	ev.Verb = p.MethodName[strings.LastIndexByte(p.MethodName, '.')+1:]
	ev.User.Username = p.AuthenticationInfo.PrincipalEmail
	if ev.User.Username == "" {
		ev.User.Username = p.AuthenticationInfo.PrincipalSubject
	}
	if ip := p.RequestMetadata.CallerIP; ip != "" {
		ev.SourceIPs = []string{ip}
	}
	ev.UserAgent = p.RequestMetadata.CallerSuppliedUserAgent
	ev.ObjectRef, ev.RequestURI = gkeResourceReference(p.ResourceName)
	if op := e.Operation; op != nil {
		ev.AuditID = op.ID
		if op.First && !op.Last {
			ev.Stage = "ResponseStarted" // a long-running request (watch, exec): its end comes in a later entry
		}
	}
	ev.StageTimestamp = timestampString(e.Timestamp)
	code, msg := 0, ""
	if p.Status != nil {
		msg = p.Status.Message
		if p.Status.Code != nil {
			code = *p.Status.Code
		}
	}
	if http, ok := grpcHTTP[code]; ok {
		ev.ResponseStatus = &v1Status{Code: http, Message: msg}
	} else {
		d.problem(line, UnknownCode, fmt.Sprintf("unknown gRPC status code %d; event kept without a response code", code))
	}
	out, err := json.Marshal(&ev)
	if err != nil {
		d.problem(line, Malformed, "GKE entry: "+err.Error())
		return
	}
	out = appendBody(out, "requestObject", req)
	out = appendBody(out, "responseObject", resp)
	d.emit(out, e.Resource.Labels["cluster_name"], line, GKE)
}

func timestampString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// gkeResourceReference parses resourceName: GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUB]],
// with group "core" for the core group. Anything else is a non-resource
// path (readyz, version), given back as the request URI.
func gkeResourceReference(name string) (*v1ObjectRef, string) {
	if name == "" {
		return nil, ""
	}
	s := strings.Split(name, "/")
	if len(s) < 3 || len(s[1]) < 2 || s[1][0] != 'v' || s[1][1] < '0' || s[1][1] > '9' {
		return nil, "/" + name
	}
	ref := &v1ObjectRef{APIGroup: s[0], APIVersion: s[1]}
	if ref.APIGroup == "core" {
		ref.APIGroup = ""
	}
	rest := s[2:]
	if len(rest) >= 3 && rest[0] == "namespaces" {
		ref.Namespace, rest = rest[1], rest[2:]
	}
	ref.Resource = rest[0]
	if len(rest) > 1 {
		ref.Name = rest[1]
	}
	if len(rest) > 2 {
		ref.Subresource = strings.Join(rest[2:], "/")
	}
	return ref, ""
}
