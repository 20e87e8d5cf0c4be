package audit

import (
	"sort"
	"strings"
	"time"
)

// timestamps holds the raw timestamp strings of an event until the decoder
// knows which of them are present; old events carry only "timestamp" or
// "metadata.creationTimestamp".
type timestamps struct {
	received, stage, legacy, created string
}

// resolve sets Received and StageTime, falling back to the legacy fields,
// and BadTime when a timestamp is there but is not a time ParseTime takes.
// Each timestamp is parsed once.
func (ts *timestamps) resolve(e *Event) {
	received, rOK, rBad := parsePresent(ts.received)
	stage, sOK, sBad := parsePresent(ts.stage)
	legacy, lOK, lBad := parsePresent(ts.legacy)
	e.BadTime = rBad || sBad || lBad
	switch {
	case rOK:
		e.Received = received
	case lOK:
		e.Received = legacy
	}
	switch {
	case sOK:
		e.StageTime = stage
	case lOK:
		e.StageTime = legacy
	case ts.created != "":
		e.StageTime, _ = ParseTime(ts.created)
	}
}

// parsePresent parses s when it is not empty: ok when it is a time, bad
// when it is there but is not one.
func parsePresent(s string) (t time.Time, ok, bad bool) {
	if s == "" {
		return time.Time{}, false, false
	}
	t, ok = ParseTime(s)
	return t, ok, !ok
}

// annotation applies one annotation of interest to e; others are ignored
// (they stay in Raw).
func (e *Event) annotation(key, value string) {
	switch {
	case key == AnnotationDecision:
		e.Decision = value
	case key == AnnotationReason:
		e.Reason = value
	case strings.HasPrefix(key, AnnotationLatencyPrefix):
		d, err := time.ParseDuration(value)
		if err != nil {
			return
		}
		name := key[len(AnnotationLatencyPrefix):]
		for i := range e.Phases {
			if e.Phases[i].Name == name {
				e.Phases[i].Duration = d
				return
			}
		}
		e.Phases = append(e.Phases, Phase{Name: name, Duration: d})
	}
}

// clearAnnotations undoes every annotation, as `"annotations": null` does.
func (e *Event) clearAnnotations() {
	e.Decision, e.Reason, e.Phases = "", "", nil
}

// normalize finishes a decoded event: phases in name order, and the group
// split out of a v1alpha1-style objectRef.apiVersion ("apps/v1").
func (e *Event) normalize() {
	if len(e.Phases) > 1 {
		sort.Slice(e.Phases, func(i, j int) bool { return e.Phases[i].Name < e.Phases[j].Name })
	}
	if e.Object.APIGroup == "" {
		if g, v, ok := strings.Cut(e.Object.APIVersion, "/"); ok {
			e.Object.APIGroup, e.Object.APIVersion = g, v
		}
	}
}

// shapeOf classifies a top-level object by kind and apiVersion.
type shape uint8

const (
	shapeOther shape = iota
	shapeEvent
	shapeEventList
)

func classify(kind, apiVersion string, hasAuditID, hasStage bool) shape {
	auditAPI := apiVersion == "" || strings.HasPrefix(apiVersion, "audit.k8s.io/")
	switch {
	case kind == "Event" && auditAPI:
		return shapeEvent
	case kind == "EventList" && auditAPI:
		return shapeEventList
	case kind == "" && apiVersion != "" && auditAPI:
		return shapeEvent
	case kind == "" && apiVersion == "" && hasAuditID && hasStage:
		// An EventList item on its own (webhook bodies' items carry no kind).
		return shapeEvent
	}
	return shapeOther
}

// describe names an unrecognised document for the operator, recognising the
// usual cloud wrappers so the message says what the file is.
func describe(kind, apiVersion string, keys []string) string {
	has := func(k string) bool {
		for _, x := range keys {
			if x == k {
				return true
			}
		}
		return false
	}
	switch {
	case kind != "" && apiVersion != "":
		return `kind "` + kind + `" (` + apiVersion + `)`
	case kind != "":
		return `kind "` + kind + `"`
	case has("protoPayload"):
		return "a Google Cloud Logging entry (protoPayload); kaudit replay reads these only in files whose first 8 KiB show a cloud export"
	case has("properties") && has("category"):
		return "an Azure diagnostic record (properties.log); kaudit replay reads these only in files whose first 8 KiB show a cloud export"
	case has("records"):
		return "an Azure Event Hubs batch (records); kaudit replay reads these only in files whose first 8 KiB show a cloud export"
	case has("logEvents"):
		return "a CloudWatch Logs envelope (logEvents); kaudit replay reads these only in files whose first 8 KiB show a cloud export"
	case len(keys) == 0:
		return "an empty object"
	}
	if len(keys) > 5 {
		keys = append(keys[:5:5], "…")
	}
	return "an object with keys " + strings.Join(keys, ", ")
}
