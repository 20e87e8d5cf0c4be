package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Envelope names a cloud log shape WriteEnvelope can wrap events in.
type Envelope string

// Envelopes WriteEnvelope knows.
const (
	EnvelopeGKE        Envelope = "gke"        // Cloud Audit Logs LogEntry per line (gcloud / Logging export)
	EnvelopeAKS        Envelope = "aks"        // Event Hubs bodies {"records":[…]}, properties.log as a string
	EnvelopeCloudWatch Envelope = "cloudwatch" // CloudWatch Logs subscription payloads (DATA_MESSAGE)
)

// envelopeBatch is how many events share one AKS or CloudWatch body.
const envelopeBatch = 50

// WriteEnvelope writes events (audit.k8s.io/v1 Event JSON, one per
// element, as Next makes them) wrapped the way cluster delivers them from
// a managed cluster named cluster. GKE entries carry only what a LogEntry
// can (see README "Cloud exports"); AKS and CloudWatch carry the event
// itself, as a string.
func WriteEnvelope(w io.Writer, env Envelope, cluster string, events [][]byte) error {
	var buf bytes.Buffer
	var err error
	switch env {
	case EnvelopeGKE:
		err = writeGKE(&buf, w, cluster, events)
	case EnvelopeAKS, EnvelopeCloudWatch:
		for i := 0; i < len(events) && err == nil; i += envelopeBatch {
			buf.Reset()
			writeBatch(&buf, env, cluster, events[i:min(i+envelopeBatch, len(events))])
			_, err = w.Write(buf.Bytes())
		}
	default:
		return fmt.Errorf("gen: unknown envelope %q", env)
	}
	return err
}

func writeBatch(buf *bytes.Buffer, env Envelope, cluster string, events [][]byte) {
	if env == EnvelopeAKS {
		buf.WriteString(`{"records":[`)
	} else {
		fmt.Fprintf(buf, `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/eks/%s/cluster","logStream":"kube-apiserver-audit-0","subscriptionFilters":["kaudit"],"logEvents":[`, cluster)
	}
	for i, ev := range events {
		if i > 0 {
			buf.WriteByte(',')
		}
		msg, _ := json.Marshal(string(bytes.TrimSpace(ev)))
		if env == EnvelopeAKS {
			fmt.Fprintf(buf, `{"operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","category":"kube-audit","resourceId":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/%s","properties":{"log":%s,"stream":"stdout","pod":"kube-apiserver-0"}}`, strings.ToUpper(cluster), msg)
		} else {
			fmt.Fprintf(buf, `{"id":"%d","timestamp":0,"message":%s}`, i, msg)
		}
	}
	buf.WriteString("]}\n")
}

// httpGRPC is the google.rpc.Code GKE logs for an HTTP status.
var httpGRPC = map[int]int{200: 0, 201: 0, 101: 0, 204: 0, 400: 3, 422: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}

type genEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	SourceIPs []string `json:"sourceIPs"`
	UserAgent string   `json:"userAgent"`
	ObjectRef *struct {
		Resource, Namespace, Name, APIGroup, APIVersion, Subresource string
	} `json:"objectRef"`
	ResponseStatus struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage   `json:"requestObject"`
	ResponseObject json.RawMessage   `json:"responseObject"`
	StageTimestamp string            `json:"stageTimestamp"`
	Annotations    map[string]string `json:"annotations"`
}

// writeGKE writes one LogEntry per event, as Cloud Logging stores them.
func writeGKE(buf *bytes.Buffer, w io.Writer, cluster string, events [][]byte) error {
	started := map[string]bool{}
	for _, raw := range events {
		var e genEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("gen: not an event: %w", err)
		}
		method, resource := "io.k8s."+e.Verb, strings.TrimPrefix(e.RequestURI, "/")
		if r := e.ObjectRef; r != nil && r.Resource != "" {
			group := r.APIGroup
			if group == "" {
				group = "core"
			}
			parts := []string{group, r.APIVersion}
			if r.Namespace != "" {
				parts = append(parts, "namespaces", r.Namespace)
			}
			parts = append(parts, r.Resource)
			if r.Name != "" {
				parts = append(parts, r.Name)
			}
			m := "io.k8s." + group + "." + r.APIVersion + "." + r.Resource
			if r.Subresource != "" {
				parts = append(parts, r.Subresource)
				m += "." + r.Subresource
			}
			method, resource = m+"."+e.Verb, strings.Join(parts, "/")
		}
		code, ok := httpGRPC[e.ResponseStatus.Code]
		if !ok {
			code = 2 // UNKNOWN
		}
		first, last := true, true
		switch {
		case e.Stage == "ResponseStarted":
			last = false
			started[e.AuditID] = true
		case started[e.AuditID]:
			first = false
			delete(started, e.AuditID)
		}
		ip := ""
		if len(e.SourceIPs) > 0 {
			ip = e.SourceIPs[0]
		}
		entry := map[string]any{
			"protoPayload": map[string]any{
				"@type":              "type.googleapis.com/google.cloud.audit.AuditLog",
				"serviceName":        "k8s.io",
				"methodName":         method,
				"resourceName":       resource,
				"authenticationInfo": map[string]any{"principalEmail": e.User.Username},
				"requestMetadata":    map[string]any{"callerIp": ip, "callerSuppliedUserAgent": e.UserAgent},
				"status":             map[string]any{"code": code, "message": e.ResponseStatus.Message},
				"request":            typed(e.RequestObject),
				"response":           typed(e.ResponseObject),
			},
			"insertId":  e.AuditID,
			"resource":  map[string]any{"type": "k8s_cluster", "labels": map[string]string{"cluster_name": cluster, "project_id": "demo", "location": "europe-west1"}},
			"timestamp": e.StageTimestamp,
			"labels":    e.Annotations,
			"logName":   "projects/demo/logs/cloudaudit.googleapis.com%2Factivity",
			"operation": map[string]any{"id": e.AuditID, "producer": "k8s.io", "first": first, "last": last},
		}
		b, err := json.Marshal(entry)
		if err != nil {
			return err
		}
		buf.Reset()
		buf.Write(b)
		buf.WriteByte('\n')
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// typed adds the "@type" protobuf JSON puts in a body, or gives nil.
func typed(body json.RawMessage) any {
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	m["@type"] = "core.k8s.io/v1.Object"
	return m
}
