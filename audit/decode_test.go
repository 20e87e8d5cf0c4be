package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var bom = []byte("\xef\xbb\xbf")

// decoded is what a fixture turned into.
type decoded struct {
	events                              []Event
	errs                                []error // the errors, in input order
	unrecognised, malformed, itemErrors int
}

func decodeFixture(t *testing.T, name string, whole bool) (decoded, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/public", name))
	if err != nil {
		t.Fatal(err)
	}
	var r decoded
	add := func(doc []byte) {
		var err error
		r.events, err = Decode(doc, r.events)
		var syn *SyntaxError
		var unr *UnrecognisedError
		var item *ItemError
		switch {
		case err == nil:
			return
		case errors.As(err, &item):
			r.itemErrors++
		case errors.As(err, &syn):
			r.malformed++
		case errors.As(err, &unr):
			r.unrecognised++
		default:
			t.Fatalf("%s: error of unexpected type %T: %v", name, err, err)
		}
		r.errs = append(r.errs, err)
	}
	if whole {
		// Stripping the BOM is the reader's job; Decode must only not crash on it.
		if rest, ok := bytes.CutPrefix(b, bom); ok {
			_, err := Decode(b, nil)
			var syn *SyntaxError
			if !errors.As(err, &syn) || syn.Offset != 1 {
				t.Errorf("%s with its BOM: error %v, want a SyntaxError at byte 1", name, err)
			}
			b = rest
		}
		add(b)
		return r, b
	}
	for line := range bytes.Lines(b) {
		if line = bytes.TrimRight(line, "\r\n"); len(line) > 0 {
			add(line)
		}
	}
	return r, b
}

func count(evs []Event, f func(Event) bool) int {
	n := 0
	for _, e := range evs {
		if f(e) {
			n++
		}
	}
	return n
}

func utc(s string) time.Time {
	t, ok := ParseTime(s)
	if !ok {
		panic(s)
	}
	return t
}

var fixtureTests = []struct {
	file                            string
	whole                           bool // one document, not JSON lines
	events, unrecognised, malformed int
	check                           func(t *testing.T, r decoded, doc []byte)
}{
	{file: "audit2rbac-demo-v1.jsonl", events: 37, check: checkAudit2rbac},
	{file: "audit2rbac-demo-v1beta1.jsonl", events: 37, check: checkAudit2rbac},
	{file: "falco-trace-files-k8s_audit.jsonl", events: 51, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "RequestResponse", count(r.events, func(e Event) bool { return e.Level == LevelRequestResponse }), 31)
		eq(t, "Request", count(r.events, func(e Event) bool { return e.Level == LevelRequest }), 16)
		eq(t, "Metadata", count(r.events, func(e Event) bool { return e.Level == LevelMetadata }), 4)
		streams := count(r.events, func(e Event) bool {
			return e.Code == 101 && e.Stage == StageResponseStarted && e.LongRunning()
		})
		eq(t, "exec/attach streams", streams, 2)
		eq(t, "decisions", count(r.events, func(e Event) bool { return e.Decision == "allow" }) > 0, true)
	}},
	{file: "falco-malformed-kind0.json", whole: true, unrecognised: 1, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "error", r.errs[0].Error(), "not an audit event: field kind holds a JSON number")
	}},
	{file: "elastic-mixed-k8s-gke-aks.jsonl", events: 3, unrecognised: 2, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "identical lines", bytes.Equal(r.events[1].Raw, r.events[2].Raw), true)
		eq(t, "AuditID", r.events[0].AuditID, "abcde12345")
		eq(t, "Reason", strings.HasPrefix(r.events[1].Reason, "RBAC: allowed by RoleBinding"), true)
		eq(t, "GKE", r.errs[0].Error(), "not an audit event: a Google Cloud Logging entry (protoPayload); kaudit replay reads these only in files whose first 8 KiB show a cloud export")
		eq(t, "AKS", r.errs[1].Error(), "not an audit event: an Azure diagnostic record (properties.log); kaudit replay reads these only in files whose first 8 KiB show a cloud export")
	}},
	{file: "elastic-aks-diagnostic-string-log.jsonl", unrecognised: 1},
	{file: "panther-eks-audit.jsonl", events: 188, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "403s", count(r.events, func(e Event) bool { return e.Code == 403 }), 37)
		eq(t, "space-separated timestamp", r.events[0].Received, utc("2022-11-29T00:09:04.38Z"))
		eq(t, "356 s watch", count(r.events, func(e Event) bool {
			return e.LongRunning() && e.Latency() == 356011*time.Millisecond
		}) > 0, true)
	}},
	{file: "panther-gke-cloudaudit.jsonl", unrecognised: 59},
	{file: "panther-aks-monitoractivity.jsonl", unrecognised: 40},
	{file: "sysdig-aks-eventhubs-records.json", whole: true, unrecognised: 1, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "error", r.errs[0].Error(), "not an audit event: an Azure Event Hubs batch (records); kaudit replay reads these only in files whose first 8 KiB show a cloud export")
	}},
	{file: "sysdig-aks-eventhubs-records.unwrapped.jsonl", events: 22, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "Metadata", count(r.events, func(e Event) bool { return e.Level == LevelMetadata }), 12)
		eq(t, "Request", count(r.events, func(e Event) bool { return e.Level == LevelRequest }), 10)
		eq(t, "409", count(r.events, func(e Event) bool { return e.Code == 409 }), 1)
		eq(t, "304", count(r.events, func(e Event) bool { return e.Code == 304 }), 1)
		eq(t, "1871 s watch", count(r.events, func(e Event) bool {
			return e.Verb == "watch" && e.Stage == StageResponseComplete && e.LongRunning() &&
				e.Latency() == 1871*time.Second+849519*time.Microsecond
		}), 1)
	}},
	{file: "sysdig-aks-diagnostic-record-bom-pretty.json", whole: true, unrecognised: 1},
	{file: "sysdig-aks-requestresponse-event-bom-pretty.json", whole: true, events: 1, check: func(t *testing.T, r decoded, doc []byte) {
		e := r.events[0]
		eq(t, "Level", e.Level, LevelRequestResponse)
		eq(t, "Verb", e.Verb, "update")
		eq(t, "Object", e.Object, ObjectRef{APIGroup: "apps", APIVersion: "v1", Resource: "controllerrevisions", Namespace: "kube-system", Name: "kube-proxy-56987cf666"})
		eq(t, "User", e.User.Name, "system:serviceaccount:kube-system:daemon-set-controller")
		eq(t, "Decision", e.Decision, "allow")
		eq(t, "Raw", bytes.Equal(e.Raw, doc), true)
	}},
	{file: "kbx-openshift-single-event-pretty.json", whole: true, events: 1, check: func(t *testing.T, r decoded, _ []byte) {
		e := r.events[0]
		eq(t, "UserAgent", e.UserAgent, "kubelet/v1.27.4+2c83a9f (linux/amd64) kubernetes/bbf96b6")
		eq(t, "Groups", e.User.Groups, []string{"system:nodes", "system:authenticated"})
		eq(t, "SourceIP", e.SourceIP, "10.0.6.159")
		eq(t, "Object.Resource", e.Object.Resource, "leases")
	}},
	{file: "khi-gke-cloudlogging-k8s-audit.jsonl", unrecognised: 3},
	{file: "khi-oss-kind-requestresponse.jsonl", events: 1, check: func(t *testing.T, r decoded, _ []byte) {
		e := r.events[0]
		eq(t, "User", e.User, UserInfo{Name: "system:kube-scheduler", Groups: []string{"system:authenticated"}})
		eq(t, "Decision", e.Decision, "allow")
		eq(t, "Latency", e.Latency(), 9863*time.Microsecond)
		eq(t, "Object.APIGroup", e.Object.APIGroup, "coordination.k8s.io")
		eq(t, "LongRunning", e.LongRunning(), false)
	}},
	{file: "k8sdocs-legacy-2016.log", malformed: 2},
	{file: "k8sdocs-legacy-2017-03.log", malformed: 2},
	{file: "k8sdocs-legacy-staged-2017-06.log", malformed: 2},
	{file: "k8sdocs-v1alpha1.jsonl", events: 2, check: func(t *testing.T, r decoded, _ []byte) {
		eq(t, "Stage[0]", r.events[0].Stage, StageRequestReceived)
		eq(t, "Stage[1]", r.events[1].Stage, StageResponseComplete)
		eq(t, "Object", r.events[0].Object, ObjectRef{APIVersion: "v1", Resource: "pods", Namespace: "default"})
		eq(t, "Received", r.events[1].Received, utc("2017-07-12T11:02:43Z"))
	}},
	{file: "k8sdocs-webhook-eventlist-v1alpha1.json", whole: true, events: 1, check: func(t *testing.T, r decoded, doc []byte) {
		e := r.events[0]
		eq(t, "AuditID", e.AuditID, "4faf711a-9094-400f-a876-d9188ceda548")
		eq(t, "Object", e.Object, ObjectRef{APIGroup: "rbac.authorization.k8s.io", APIVersion: "v1beta1",
			Resource: "rolebindings", Namespace: "kube-public", Name: "system:controller:bootstrap-signer"})
		eq(t, "StageTime", e.StageTime, utc("2017-06-15T23:07:40Z"))
		eq(t, "Raw within doc", within(e.Raw, doc), true)
		eq(t, "Raw is the item", strings.HasPrefix(string(e.Raw), "{\n      \"metadata\"") && strings.HasSuffix(string(e.Raw), "}\n    }"), true)
	}},
	{file: "kube-audit-rest-admissionreview.jsonl", unrecognised: 59, check: func(t *testing.T, r decoded, _ []byte) {
		for _, err := range r.errs {
			eq(t, "error", err.Error(), `not an audit event: kind "AdmissionReview" (admission.k8s.io/v1)`)
		}
	}},
	// The provenance indexes are not audit logs; every line is malformed.
	{file: "falco-trace-files-k8s_audit.index.tsv", malformed: 52},
	{file: "panther-aks-monitoractivity.index.tsv", malformed: 41},
	{file: "panther-eks-audit.index.tsv", malformed: 189},
	{file: "panther-gke-cloudaudit.index.tsv", malformed: 60},
}

// checkAudit2rbac checks liggitt/audit2rbac's demo log: system:admin
// impersonating three subjects, with only the legacy timestamp fields.
func checkAudit2rbac(t *testing.T, r decoded, _ []byte) {
	subjects := map[string]int{}
	for _, e := range r.events {
		subjects[e.Subject().Name]++
		if e.User.Name != "system:admin" {
			t.Errorf("User.Name = %q", e.User.Name)
		}
		if e.Received.IsZero() || !e.Received.Equal(e.StageTime) {
			t.Errorf("Received %v, StageTime %v: want both from timestamp", e.Received, e.StageTime)
		}
	}
	eq(t, "subjects", subjects, map[string]int{"alice": 3, "bob": 29, "system:serviceaccount:ns1:sa1": 5})
	eq(t, "denied", count(r.events, func(e Event) bool { return e.Denied() && e.Code == 403 }), 11)
	eq(t, "non-resource", count(r.events, func(e Event) bool { return e.Object == ObjectRef{} }), 23)
	e := r.events[0]
	eq(t, "Impersonated", e.Impersonated, UserInfo{Name: "bob", Groups: []string{"system:authenticated"}})
	eq(t, "Received", e.Received, utc("2017-09-11T19:55:05Z"))
	eq(t, "Message", e.Message, `pods is forbidden: User "bob" cannot list pods in the namespace "default"`)
}

func TestDecodeFixtures(t *testing.T) {
	covered := map[string]bool{"SOURCES.md": true}
	for _, tc := range fixtureTests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			r, doc := decodeFixture(t, tc.file, tc.whole)
			if len(r.events) != tc.events || r.unrecognised != tc.unrecognised || r.malformed != tc.malformed || r.itemErrors != 0 {
				t.Fatalf("events/unrecognised/malformed/item errors = %d/%d/%d/%d, want %d/%d/%d/0 (errors: %v)",
					len(r.events), r.unrecognised, r.malformed, r.itemErrors, tc.events, tc.unrecognised, tc.malformed, r.errs)
			}
			for _, e := range r.events {
				if !within(e.Raw, doc) {
					t.Fatal("Raw is not a subslice of the input")
				}
			}
			if tc.check != nil {
				tc.check(t, r, doc)
			}
		})
	}
	files, _ := filepath.Glob("../testdata/public/*")
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no entry in fixtureTests", filepath.Base(f))
		}
	}
}

// TestDecodeAppends checks the dst contract: events are appended, and an
// error leaves dst as it was.
func TestDecodeAppends(t *testing.T) {
	dst := make([]Event, 1, 10)
	dst[0].AuditID = "first"
	out, err := Decode([]byte(`{"kind":"EventList","items":[{"auditID":"x"},{"auditID":"y"}],"kind":"Other"}`), dst)
	if err == nil || len(out) != 1 || out[0].AuditID != "first" {
		t.Fatalf("unrecognised list: %d events, %v", len(out), err)
	}
	if spare := out[:2][1]; spare.AuditID != "" || spare.Raw != nil {
		t.Errorf("dropped items left in dst's spare capacity: %+v", spare)
	}
	out, err = Decode([]byte(ev("")), out)
	if err != nil || len(out) != 2 || out[0].AuditID != "first" || out[1].AuditID != "a1" {
		t.Fatalf("event: %d events, %v", len(out), err)
	}
}

// TestCloneDetaches checks that a cloned event survives its input being
// overwritten.
func TestCloneDetaches(t *testing.T) {
	doc := []byte(ev(`"verb":"get","user":{"username":"alice","groups":["g"]},"annotations":{"apiserver.latency.k8s.io/etcd":"1ms"}`))
	evs, err := Decode(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := evs[0].Clone()
	for i := range doc {
		doc[i] = 'x'
	}
	if c.Verb != "get" || c.User.Name != "alice" || c.User.Groups[0] != "g" || c.Phases[0].Name != "etcd" || c.Raw[0] != '{' {
		t.Errorf("clone changed with its input: %+v", c)
	}
}
