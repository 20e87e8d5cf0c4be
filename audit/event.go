// Package audit is kaudit's domain model: the compact audit Event that every
// other package works with, the decoder that turns audit-log bytes into Events,
// and the rules an operator relies on (latency, denials, long-running requests).
//
// It is a leaf package: it imports the standard library only.
package audit

import (
	"strings"
	"time"
)

// Stage is the point in a request's life at which an event was written.
type Stage uint8

// Stages in the order the API server writes them.
const (
	StageUnknown Stage = iota
	StageRequestReceived
	StageResponseStarted
	StageResponseComplete
	StagePanic
)

var stageNames = [...]string{"", "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}

func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return ""
}

// ParseStage maps an audit.k8s.io stage name to a Stage; unknown names give StageUnknown.
// (A switch: the compiler tells the names apart by length before it
// compares bytes, where a loop over stageNames compared each.)
func ParseStage(s string) Stage {
	switch s {
	case "RequestReceived":
		return StageRequestReceived
	case "ResponseStarted":
		return StageResponseStarted
	case "ResponseComplete":
		return StageResponseComplete
	case "Panic":
		return StagePanic
	}
	return StageUnknown
}

// Final reports whether no later stage of the same request can follow.
func (s Stage) Final() bool { return s == StageResponseComplete || s == StagePanic }

// Level is the audit level the policy chose for the request.
type Level uint8

// Levels from least to most detail.
const (
	LevelUnknown Level = iota
	LevelNone
	LevelMetadata
	LevelRequest
	LevelRequestResponse
)

var levelNames = [...]string{"", "None", "Metadata", "Request", "RequestResponse"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return ""
}

// ParseLevel maps an audit.k8s.io level name to a Level; unknown names give LevelUnknown.
func ParseLevel(s string) Level {
	switch s {
	case "None":
		return LevelNone
	case "Metadata":
		return LevelMetadata
	case "Request":
		return LevelRequest
	case "RequestResponse":
		return LevelRequestResponse
	}
	return LevelUnknown
}

// UserInfo is who made (or was impersonated by) the request.
type UserInfo struct {
	Name   string
	Groups []string
}

// ObjectRef is the object a resource request acted on. It is zero for
// non-resource requests such as GET /healthz.
type ObjectRef struct {
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
}

// Phase is one apiserver.latency.k8s.io/<name> annotation: where the API
// server spent part of a slow request's time.
type Phase struct {
	Name     string // e.g. "etcd", "admission", "total"
	Duration time.Duration
}

// Annotation keys kaudit interprets.
const (
	AnnotationDecision      = "authorization.k8s.io/decision"
	AnnotationReason        = "authorization.k8s.io/reason"
	AnnotationLatencyPrefix = "apiserver.latency.k8s.io/"
)

// Event is the compact form of one audit.k8s.io Event: what tables and
// filters need, plus the original bytes.
//
// Events returned by Decode may share memory with the decoded bytes (their
// strings are views into them): keep the bytes unchanged while the event is
// in use, and call Clone to keep an event beyond that.
type Event struct {
	AuditID      string
	Stage        Stage
	Level        Level
	Verb         string
	RequestURI   string
	User         UserInfo
	Impersonated UserInfo // zero unless the request was impersonated
	SourceIP     string   // the first of sourceIPs: the client as the API server saw it
	UserAgent    string
	Object       ObjectRef
	Code         int32  // responseStatus.code; 0 when absent
	Message      string // responseStatus.message
	Decision     string // authorization.k8s.io/decision: "allow", "forbid" or ""
	Reason       string // authorization.k8s.io/reason
	Received     time.Time
	StageTime    time.Time
	Phases       []Phase // apiserver.latency.k8s.io/* annotations, in the order written
	BadUTF8      bool    // a decoded string held invalid UTF-8 (replaced with U+FFFD)
	BadTime      bool    // a timestamp was not a time ParseTime takes (see Check)
	Raw          []byte  // the original JSON object, a subslice of the decoded bytes
	// Source is where the event was read: a host, a file or a cloud
	// cluster (set by the reader, not by Decode; "" when unnamed).
	Source string
}

// Latency is how long the request took up to this event's stage:
// stageTimestamp − requestReceivedTimestamp. It is zero when either is missing.
func (e *Event) Latency() time.Duration {
	if e.Received.IsZero() || e.StageTime.IsZero() {
		return 0
	}
	if d := e.StageTime.Sub(e.Received); d > 0 {
		return d
	}
	return 0
}

// Denied reports whether the request was refused: an authorizer said forbid,
// or the response was 403 — admission and other refusals come after the
// authorizer allowed the request, so the real API server records them with
// decision "allow" and code 403 (or with no decision at all).
func (e *Event) Denied() bool {
	return e.Decision == "forbid" || e.Code == 403
}

// LongRunning reports whether the request streams for as long as the client
// wants (watches, exec/attach/port-forward, proxies, logs), so its duration
// says nothing about slowness. It follows the API server's own
// long-running check (verbs watch and proxy; subresources attach, exec, log,
// portforward, proxy), which its latency metrics and SLOs exclude, and also
// recognises the ?watch=true spelling of a watch.
func (e *Event) LongRunning() bool {
	switch e.Verb {
	case "watch", "proxy":
		return true
	}
	switch e.Object.Subresource {
	case "attach", "exec", "log", "portforward", "proxy":
		return true
	}
	if q := strings.IndexByte(e.RequestURI, '?'); q >= 0 {
		query := e.RequestURI[q+1:]
		for query != "" {
			var kv string
			kv, query, _ = strings.Cut(query, "&")
			if kv == "watch=true" || kv == "watch=1" {
				return true
			}
		}
	}
	return false
}

// Subject is who the request acted as: the impersonated user when there is
// one, else the authenticated user.
func (e *Event) Subject() UserInfo {
	if e.Impersonated.Name != "" {
		return e.Impersonated
	}
	return e.User
}

// Clone returns a copy that shares no memory with the decoded bytes.
func (e Event) Clone() Event {
	c := e
	c.AuditID = strings.Clone(e.AuditID)
	c.Verb = strings.Clone(e.Verb)
	c.RequestURI = strings.Clone(e.RequestURI)
	c.User = cloneUser(e.User)
	c.Impersonated = cloneUser(e.Impersonated)
	c.SourceIP = strings.Clone(e.SourceIP)
	c.UserAgent = strings.Clone(e.UserAgent)
	c.Object = ObjectRef{
		APIGroup:    strings.Clone(e.Object.APIGroup),
		APIVersion:  strings.Clone(e.Object.APIVersion),
		Resource:    strings.Clone(e.Object.Resource),
		Subresource: strings.Clone(e.Object.Subresource),
		Namespace:   strings.Clone(e.Object.Namespace),
		Name:        strings.Clone(e.Object.Name),
	}
	c.Message = strings.Clone(e.Message)
	c.Decision = strings.Clone(e.Decision)
	c.Reason = strings.Clone(e.Reason)
	c.Source = strings.Clone(e.Source)
	if e.Phases != nil {
		c.Phases = make([]Phase, len(e.Phases))
		for i, p := range e.Phases {
			c.Phases[i] = Phase{Name: strings.Clone(p.Name), Duration: p.Duration}
		}
	}
	if e.Raw != nil {
		c.Raw = append([]byte(nil), e.Raw...)
	}
	return c
}

func cloneUser(u UserInfo) UserInfo {
	c := UserInfo{Name: strings.Clone(u.Name)}
	if u.Groups != nil {
		c.Groups = make([]string, len(u.Groups))
		for i, g := range u.Groups {
			c.Groups[i] = strings.Clone(g)
		}
	}
	return c
}
