package forward

import (
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// Attribute names of the OTLP mapping (resource attributes follow the
// OpenTelemetry semantic conventions; the rest are kaudit's own).
const (
	AttrEventID     = "kaudit.event_id"
	AttrSource      = "kaudit.source"     // where the event was read: host, file or cluster
	AttrDetections  = "kaudit.detections" // the detection rules the event hit (--detect): a string array
	AttrAuditID     = "k8s.audit.id"
	AttrStage       = "k8s.audit.stage"
	AttrLevel       = "k8s.audit.level"
	AttrVerb        = "k8s.audit.verb"
	AttrUser        = "k8s.audit.user"
	AttrGroups      = "k8s.audit.groups"
	AttrResource    = "k8s.audit.resource"
	AttrSubresource = "k8s.audit.subresource"
	AttrAPIGroup    = "k8s.audit.api_group"
	AttrNamespace   = "k8s.namespace.name"
	AttrName        = "k8s.audit.object_name"
	AttrCode        = "http.response.status_code"
	AttrDecision    = "k8s.audit.decision"
	AttrLatency     = "k8s.audit.latency_ms"
)

// otlp is the OTLP/HTTP logs protocol: protobuf ExportLogsServiceRequest,
// gzipped, POST /v1/logs.
type otlp struct{ id Identity }

func (otlp) limits() (int, int)  { return 1000, 4 << 20 }
func (otlp) contentType() string { return "application/x-protobuf" }
func (otlp) header(http.Header)  {}

// encode maps records to one ResourceLogs: body = the original event JSON,
// time = stageTimestamp, observed time = when kaudit read it.
func (o otlp) encode(recs []Record) ([]byte, error) {
	ld := o.logs(recs)
	return plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
}

func (o otlp) logs(recs []Record) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", "kube-apiserver")
	if o.id.Host != "" {
		ra.PutStr("host.name", o.id.Host)
	}
	if o.id.Cluster != "" {
		ra.PutStr("k8s.cluster.name", o.id.Cluster)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("kaudit")
	lrs := sl.LogRecords()
	lrs.EnsureCapacity(len(recs))
	for i := range recs {
		r := &recs[i]
		ev := &r.Event
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(string(ev.Raw))
		if !ev.StageTime.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.StageTime))
		}
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(r.Observed))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		if ev.Code >= 500 {
			lr.SetSeverityNumber(plog.SeverityNumberError)
		} else if ev.Denied() {
			lr.SetSeverityNumber(plog.SeverityNumberWarn)
		}
		a := lr.Attributes()
		a.PutStr(AttrEventID, r.ID)
		putStr(a, AttrSource, ev.Source)
		putStr(a, AttrAuditID, ev.AuditID)
		if ev.Stage != 0 {
			a.PutStr(AttrStage, ev.Stage.String())
		}
		if ev.Level != 0 {
			a.PutStr(AttrLevel, ev.Level.String())
		}
		putStr(a, AttrVerb, ev.Verb)
		putStr(a, AttrUser, ev.User.Name)
		if len(ev.User.Groups) > 0 {
			s := a.PutEmptySlice(AttrGroups)
			s.EnsureCapacity(len(ev.User.Groups))
			for _, g := range ev.User.Groups {
				s.AppendEmpty().SetStr(g)
			}
		}
		putStr(a, AttrResource, ev.Object.Resource)
		putStr(a, AttrSubresource, ev.Object.Subresource)
		putStr(a, AttrAPIGroup, ev.Object.APIGroup)
		putStr(a, AttrNamespace, ev.Object.Namespace)
		putStr(a, AttrName, ev.Object.Name)
		if ev.Code != 0 {
			a.PutInt(AttrCode, int64(ev.Code))
		}
		putStr(a, AttrDecision, ev.Decision)
		if len(r.Detections) > 0 {
			s := a.PutEmptySlice(AttrDetections)
			s.EnsureCapacity(len(r.Detections))
			for _, d := range r.Detections {
				s.AppendEmpty().SetStr(d)
			}
		}
		if d := ev.Latency(); d > 0 {
			a.PutDouble(AttrLatency, float64(d.Microseconds())/1000)
		}
	}
	return ld
}

func putStr(a pcommon.Map, k, v string) {
	if v != "" {
		a.PutStr(k, v)
	}
}

// judge classifies a response the way the OTLP/HTTP specification says:
// retry only 429, 502, 503 and 504 (honouring Retry-After); a 200 may carry
// a partial success whose rejected records are counted, not resent; any
// other status is a permanent failure (dead letter). 413 is split.
func (otlp) judge(status int, hdr http.Header, body []byte) verdict {
	switch {
	case status >= 200 && status < 300:
		v := verdict{kind: vOK}
		if len(body) > 0 {
			resp := plogotlp.NewExportResponse()
			if strings.Contains(hdr.Get("Content-Type"), "json") {
				_ = resp.UnmarshalJSON(body)
			} else {
				_ = resp.UnmarshalProto(body)
			}
			if ps := resp.PartialSuccess(); ps.RejectedLogRecords() > 0 || ps.ErrorMessage() != "" {
				v.rejected = int(ps.RejectedLogRecords())
				v.msg = fmt.Sprintf("partial success: %d rejected: %s", ps.RejectedLogRecords(), ps.ErrorMessage())
			}
		}
		return v
	case status == http.StatusTooManyRequests, status == http.StatusBadGateway,
		status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return verdict{kind: vRetry, msg: statusMsg(status, body), retryAfter: retryAfter(hdr)}
	case status == http.StatusRequestEntityTooLarge:
		return verdict{kind: vSplit, msg: statusMsg(status, body)}
	}
	return verdict{kind: vDrop, msg: statusMsg(status, body)}
}
