package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const historyPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  resources: [{group: coordination.k8s.io, resources: [leases]}]
- level: Request
  resources: [{group: "", resources: [configmaps], resourceNames: [applied-req]}]
- level: RequestResponse
  resources:
  - {group: apps, resources: [deployments, deployments/scale, deployments/status]}
  - {group: "", resources: [configmaps]}
  - {group: rbac.authorization.k8s.io, resources: [roles, rolebindings]}
- level: Metadata
`

// TestE2EHistory records a workload at RequestResponse level on a real
// API server and checks kaudit history against it: a Deployment created,
// patched (strategic merge and JSON merge), scaled through /scale, its
// status patched, then deleted; a ConfigMap edited three times by two
// users; a RoleBinding deleted between an allowed and a denied request.
// The last revision kaudit rebuilt of each object equals kubectl get -o
// json taken just before the delete, each revision's actor is the
// workload's, and kaudit rbac names the RoleBinding's deletion.
func TestE2EHistory(t *testing.T) {
	bin := kauditBin(t)
	rc := realcluster(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(historyPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newAPIServer(t, rc, append(portsEnv(t), "AUDIT_LOG_MAXSIZE=100", "AUDIT_LOG_COMPRESS=0", "AUDIT_POLICY="+policy)...)
	startAPIServers(t, a)

	// kubectl as user (a.dir holds a kubeconfig for each).
	as := func(user string, args ...string) *exec.Cmd {
		return exec.Command(kubectl(), append([]string{"--kubeconfig=" + filepath.Join(a.dir, "kubeconfig-"+user), "--cache-dir=" + filepath.Join(a.dir, ".kube-cache-"+user)}, args...)...)
	}
	k := func(user string, args ...string) []byte {
		t.Helper()
		cmd := as(user, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl as %s %v: %v\n%s", user, args, err, stderr.Bytes())
		}
		return out
	}
	denied := func(user string, args ...string) {
		t.Helper()
		if out, err := as(user, args...).CombinedOutput(); err == nil || !strings.Contains(string(out), "forbidden") {
			t.Fatalf("kubectl as %s %v: want forbidden, got %v: %s", user, args, err, out)
		}
	}
	ns := "hist"
	k("admin", "create", "namespace", ns)
	// The Deployment.
	k("admin", "-n", ns, "create", "deployment", "web", "--image=nginx:1.25")
	k("admin", "-n", ns, "patch", "deployment", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}`)
	k("admin", "-n", ns, "patch", "deployment", "web", "--type=merge", "-p", `{"metadata":{"labels":{"tier":"front"}}}`)
	k("admin", "-n", ns, "scale", "deployment", "web", "--replicas=3")
	k("admin", "-n", ns, "patch", "deployment", "web", "--subresource=status", "--type=merge", "-p", `{"status":{"observedGeneration":3}}`)
	web := k("admin", "-n", ns, "get", "deployment", "web", "-o", "json")
	k("admin", "-n", ns, "delete", "deployment", "web")
	// The ConfigMap, edited by alice and bob, whom a Role lets.
	k("admin", "-n", ns, "create", "role", "cm-editor", "--verb=get,list,patch,update", "--resource=configmaps,pods")
	k("admin", "-n", ns, "create", "rolebinding", "cm-editors", "--role=cm-editor", "--user=alice", "--user=bob")
	k("admin", "-n", ns, "create", "configmap", "settings", "--from-literal=mode=a")
	k("alice", "-n", ns, "patch", "configmap", "settings", "-p", `{"data":{"mode":"b"}}`)
	k("bob", "-n", ns, "patch", "configmap", "settings", "--type=json", "-p", `[{"op":"add","path":"/data/extra","value":"x"}]`)
	k("alice", "-n", ns, "patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"mode":"c"}}`)
	settings := k("admin", "-n", ns, "get", "configmap", "settings", "-o", "json")
	k("admin", "-n", ns, "delete", "configmap", "settings")
	// Server-side apply, twice each, by the field manager ops: logged with
	// the response (exact), and at Request level (approximate).
	for _, name := range []string{"applied", "applied-req"} {
		for i, data := range []string{"mode: a", "mode: b\n  extra: x"} {
			file := filepath.Join(a.dir, fmt.Sprintf("%s-%d.yaml", name, i))
			doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\ndata:\n  " + data + "\n"
			if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			k("admin", "apply", "--server-side", "--field-manager=ops", "-f", file)
		}
	}
	applied := k("admin", "-n", ns, "get", "configmap", "applied", "-o", "json")
	appliedReq := k("admin", "-n", ns, "get", "configmap", "applied-req", "-o", "json")
	k("admin", "-n", ns, "delete", "configmap", "applied", "applied-req")
	// The revoked permission.
	k("alice", "-n", ns, "get", "pods")
	k("admin", "-n", ns, "delete", "rolebinding", "cm-editors")
	denied("alice", "-n", ns, "get", "pods")
	a.run(t, "down.sh", a.dir) // the API server flushes its audit buffer

	log := filepath.Join(a.dir, "audit.log")
	checkLastRevision(t, bin, log, "deployments.apps/"+ns+"/web", web, []string{"admin"})
	checkLastRevision(t, bin, log, "configmaps/"+ns+"/settings", settings, []string{"admin", "alice", "bob", "alice"})
	checkLastRevision(t, bin, log, "configmaps/"+ns+"/applied", applied, []string{"admin"})
	checkApplied(t, bin, log, "configmaps/"+ns+"/applied", applied, "exact", "server-side apply by field manager ops")
	checkApplied(t, bin, log, "configmaps/"+ns+"/applied-req", appliedReq, "approximate", "server-side apply by field manager ops; approximate: ")
	out, err := exec.Command(bin, "rbac", "-f", "user:alice", log).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "revoked? RoleBinding "+ns+"/cm-editors deleted by admin") {
		t.Errorf("kaudit rbac does not name the RoleBinding's deletion (%v):\n%s", err, out)
	}
}

// checkLastRevision: kaudit history's last revision of ref before its
// deletion equals want (kubectl get -o json), and the revisions' actors
// are users, in order (the last one repeats for the rest).
func checkLastRevision(t *testing.T, bin, log, ref string, want []byte, users []string) {
	t.Helper()
	var steps []struct {
		User     string `json:"user"`
		Verb     string `json:"verb"`
		Sub      string `json:"subresource"`
		Ends     bool   `json:"ends"`
		Revision *struct {
			Quality string         `json:"quality"`
			Object  map[string]any `json:"object"`
		} `json:"revision"`
	}
	out := historySteps(t, bin, log, ref, &steps)
	var last map[string]any
	var quality string
	n, ended, scaled := 0, false, false
	for _, s := range steps {
		if s.Ends {
			ended = true
			continue
		}
		if s.Revision == nil {
			continue
		}
		if u := users[min(n, len(users)-1)]; s.User != u {
			t.Errorf("%s: revision %d by %s, want %s", ref, n+1, s.User, u)
		}
		n++
		last, quality = s.Revision.Object, s.Revision.Quality
		if s.Sub == "scale" { // the response is a Scale: spec.replicas set on the previous revision
			spec, _ := last["spec"].(map[string]any)
			if quality != "approximate" || spec == nil || spec["replicas"] != 3.0 {
				t.Errorf("%s: /scale revision %s with spec %v, want approximate with replicas 3", ref, quality, spec)
			}
			scaled = true
		}
	}
	if strings.HasPrefix(ref, "deployments") && !scaled {
		t.Errorf("%s: no /scale revision:\n%s", ref, out)
	}
	if !ended || n < len(users) {
		t.Fatalf("%s: %d revisions, ended %v:\n%s", ref, n, ended, out)
	}
	got := kubectlObject(t, want)
	if quality != "exact" || !reflect.DeepEqual(normalise(last), normalise(got)) {
		lj, _ := json.MarshalIndent(last, "", " ")
		t.Errorf("%s: last revision (%s) differs from kubectl get:\n%s\nwant:\n%s", ref, quality, lj, want)
	}
}

// checkApplied: each server-side apply of ref is a revision of quality
// (exact with the response, approximate with the reason at Request level)
// with a note that starts with note, confirmed by managedFields (not
// "guessed"), and the last one's data is the object's.
func checkApplied(t *testing.T, bin, log, ref string, want []byte, quality, note string) {
	t.Helper()
	var steps []struct {
		Verb     string `json:"verb"`
		URI      string `json:"requestURI"`
		Note     string `json:"note"`
		Revision *struct {
			Quality string         `json:"quality"`
			Object  map[string]any `json:"object"`
		} `json:"revision"`
	}
	out := historySteps(t, bin, log, ref, &steps)
	got := kubectlObject(t, want)
	applies := 0
	var last map[string]any
	for _, s := range steps {
		if s.Verb != "patch" || s.Revision == nil {
			continue
		}
		applies++
		t.Logf("%s: apply %d: %s: %s", ref, applies, s.URI, s.Note) // what the API server logs of an apply
		if s.Revision.Quality != quality || !strings.HasPrefix(s.Note, note) || strings.Contains(s.Note, "guessed") {
			t.Errorf("%s: apply revision %s, note %q; want %s, %q", ref, s.Revision.Quality, s.Note, quality, note)
		}
		last = s.Revision.Object
	}
	if applies != 2 || !reflect.DeepEqual(normalise(last)["data"], got["data"]) {
		t.Errorf("%s: %d applies, last data %v, want 2 and %v:\n%s", ref, applies, last["data"], got["data"], out)
	}
}

// historySteps runs kaudit history -o json --no-diff ref on log, decodes
// its steps into steps and returns its output (for messages).
func historySteps(t *testing.T, bin, log, ref string, steps any) []byte {
	t.Helper()
	out, err := exec.Command(bin, "history", "-o", "json", "--no-diff", ref, log).Output()
	if err != nil {
		t.Fatalf("kaudit history %s: %v", ref, err)
	}
	if err := json.Unmarshal(out, steps); err != nil {
		t.Fatal(err)
	}
	return out
}

// kubectlObject decodes kubectl get -o json output.
func kubectlObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// normalise drops the one server-populated field kubectl get leaves out
// and the API server's response holds: metadata.managedFields (kubectl
// shows it only with --show-managed-fields). It round-trips through JSON
// so numbers compare alike.
func normalise(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	if md, ok := out["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return out
}
