package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// stdDoc mirrors the audit.k8s.io Event (and EventList) fields kaudit reads,
// for decoding with encoding/json. It is the reference that defines what
// Decode must produce.
type stdDoc struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Items      []json.RawMessage `json:"items"`
	stdEvent
}

type stdUser struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

type stdEvent struct {
	AuditID          string   `json:"auditID"`
	Stage            string   `json:"stage"`
	Level            string   `json:"level"`
	Verb             string   `json:"verb"`
	RequestURI       string   `json:"requestURI"`
	User             stdUser  `json:"user"`
	ImpersonatedUser stdUser  `json:"impersonatedUser"`
	SourceIPs        []string `json:"sourceIPs"`
	UserAgent        string   `json:"userAgent"`
	ObjectRef        struct {
		APIGroup    string `json:"apiGroup"`
		APIVersion  string `json:"apiVersion"`
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code    int32  `json:"code"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	Annotations              map[string]string `json:"annotations"`
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp"`
	StageTimestamp           string            `json:"stageTimestamp"`
	Timestamp                string            `json:"timestamp"`
	Metadata                 struct {
		CreationTimestamp string `json:"creationTimestamp"`
	} `json:"metadata"`
}

// decodeStd is Decode written plainly with encoding/json: slow, but obviously
// right. The fast decoder is fuzzed against it.
func decodeStd(doc []byte, dst []Event) ([]Event, error) {
	var d stdDoc
	if err := unmarshalStd(doc, &d); err != nil {
		return dst, err
	}
	switch classify(d.Kind, d.APIVersion, d.AuditID != "", d.Stage != "") {
	case shapeEvent:
		return append(dst, d.stdEvent.toEvent(doc)), nil
	case shapeEventList:
		return decodeStdItems(doc, d.Items, dst)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(doc, &keys)
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	return dst, &UnrecognisedError{What: describe(d.Kind, d.APIVersion, names)}
}

func decodeStdItems(doc []byte, items []json.RawMessage, dst []Event) ([]Event, error) {
	var firstErr error
	from := 0
	for i, item := range items {
		// Items are verbatim copies of the document's bytes, in order: find
		// each one so that Raw is a subslice of doc, as Decode promises.
		at := bytes.Index(doc[from:], item)
		raw := doc[from+at : from+at+len(item)]
		from += at + len(item)
		var e stdEvent
		if err := unmarshalStd(raw, &e); err != nil {
			if firstErr == nil {
				firstErr = &ItemError{Index: i, Err: err}
			}
			continue
		}
		dst = append(dst, e.toEvent(raw))
	}
	return dst, firstErr
}

func unmarshalStd(doc []byte, v any) error {
	err := json.Unmarshal(doc, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &SyntaxError{Offset: syn.Offset, Msg: syn.Error()}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &UnrecognisedError{What: fmt.Sprintf("field %s holds a JSON %s", strings.TrimPrefix(typ.Field, "stdEvent."), typ.Value)}
	}
	return &SyntaxError{Msg: err.Error()}
}

func (s *stdEvent) toEvent(raw []byte) Event {
	e := Event{
		AuditID:      s.AuditID,
		Stage:        ParseStage(s.Stage),
		Level:        ParseLevel(s.Level),
		Verb:         s.Verb,
		RequestURI:   s.RequestURI,
		User:         UserInfo{Name: s.User.Username, Groups: s.User.Groups},
		Impersonated: UserInfo{Name: s.ImpersonatedUser.Username, Groups: s.ImpersonatedUser.Groups},
		UserAgent:    s.UserAgent,
		Object: ObjectRef{
			APIGroup:    s.ObjectRef.APIGroup,
			APIVersion:  s.ObjectRef.APIVersion,
			Resource:    s.ObjectRef.Resource,
			Subresource: s.ObjectRef.Subresource,
			Namespace:   s.ObjectRef.Namespace,
			Name:        s.ObjectRef.Name,
		},
		Code:    s.ResponseStatus.Code,
		Message: s.ResponseStatus.Message,
		BadUTF8: !utf8.Valid(raw),
		Raw:     raw,
	}
	if len(s.SourceIPs) > 0 {
		e.SourceIP = s.SourceIPs[0]
	}
	for k, v := range s.Annotations {
		e.annotation(k, v)
	}
	ts := timestamps{received: s.RequestReceivedTimestamp, stage: s.StageTimestamp, legacy: s.Timestamp, created: s.Metadata.CreationTimestamp}
	ts.resolve(&e)
	e.normalize()
	return e
}
