package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// detectPolicy logs every request with its bodies, so that every rule of
// the pack can see what it needs.
const detectPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
`

// detectHit is the part of a kaudit detect -o jsonl line the test reads.
type detectHit struct {
	Rule  string `json:"rule"`
	Event struct {
		User         struct{ Username string } `json:"user"`
		Impersonated *struct {
			Username string `json:"username"`
		} `json:"impersonatedUser"`
		RequestURI string `json:"requestURI"`
		ObjectRef  struct {
			Resource, Subresource, Namespace, Name string
		} `json:"objectRef"`
	} `json:"event"`
}

func (h detectHit) String() string {
	o := h.Event.ObjectRef
	return fmt.Sprintf("%s: %s %s/%s/%s %s %s", h.Rule, h.Event.User.Username, o.Namespace, o.Resource, o.Subresource, o.Name, h.Event.RequestURI)
}

// TestE2EDetect performs each detectable action once against a real API
// server (as admin, who is not a system principal), then runs kaudit detect
// over the audit log it wrote: every rule with an action fires, and only on
// that action's object. pod-exec and exec-token-or-tar need a kubelet,
// which realcluster does not run: they are covered by fixtures only.
func TestE2EDetect(t *testing.T) {
	bin := kauditBin(t)
	rc := realcluster(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(detectPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	const port = "25443"
	a := newAPIServer(t, rc, "APISERVER_PORT="+port, "ETCD_CLIENT_PORT=21379", "ETCD_PEER_PORT=21380",
		"AUDIT_LOG_MAXSIZE=100", "AUDIT_LOG_COMPRESS=0", "AUDIT_POLICY="+policy,
		"APISERVER_EXTRA_ARGS=--allow-privileged=true")
	startAPIServers(t, a)
	// The same detections live: watch follows the log while the actions run.
	live := newFollower(t, "detect-live", "watch", "-o", "jsonl", "--detect-only", "--no-state", "--history", "all", a.dir)

	tmp := t.TempDir()
	k := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(kubectl(), append([]string{"--kubeconfig=" + filepath.Join(a.dir, "kubeconfig-admin"), "--cache-dir=" + filepath.Join(tmp, "cache")}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	curl := func(args ...string) {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sk", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
	}
	pod := func(name, ns, spec string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\nspec:\n  automountServiceAccountToken: false\n%s", name, ns, spec)
	}
	const plain = "  containers: [{name: c, image: busybox}]\n"

	k("", "create", "namespace", "det")
	k("", "-n", "det", "create", "serviceaccount", "default")
	k("", "-n", "kube-system", "create", "serviceaccount", "default") // sa-in-kube-namespace
	k(pod("det-plain", "det", plain), "create", "-f", "-")
	k(pod("det-priv", "det", "  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n"), "create", "-f", "-")
	k(pod("det-root", "det", "  securityContext: {runAsUser: 0}\n"+plain), "create", "-f", "-")
	k(pod("det-hostpath", "det", plain+"  volumes: [{name: etc, hostPath: {path: /etc}}]\n"), "create", "-f", "-")
	k(pod("det-hostnet", "det", "  hostNetwork: true\n"+plain), "create", "-f", "-")
	k(pod("det-hostpid", "det", "  hostPID: true\n"+plain), "create", "-f", "-")
	k(pod("det-hostipc", "det", "  hostIPC: true\n"+plain), "create", "-f", "-")
	k(pod("det-kube", "kube-system", plain), "create", "-f", "-")
	k("", "-n", "det", "debug", "det-plain", "--image=busybox", "-c", "dbg") // ephemeral container, no attach
	k("", "create", "clusterrolebinding", "det-crb", "--clusterrole=cluster-admin", "--user=mallory")
	k("", "create", "clusterrole", "det-wild", "--verb=*", "--resource=configmaps")
	k("", "-n", "det", "create", "role", "det-exec", "--verb=create", "--resource=pods/exec")
	k("", "--as=mallory", "--as-group=system:masters", "get", "namespace", "det")
	k("", "-n", "det", "create", "token", "default")
	k("", "label", "clusterrole", "system:basic-user", "det=touched")
	for i := range 10 {
		k("", "-n", "det", "create", "secret", "generic", fmt.Sprintf("det-s%d", i), "--from-literal=k=v")
	}
	for i := range 10 {
		k("", "-n", "det", "get", "secret", fmt.Sprintf("det-s%d", i))
	}
	k("", "get", "secrets", "-A")
	k("", "auth", "can-i", "list", "pods")
	k(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: det-hook}
webhooks:
- name: det.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig: {url: "https://127.0.0.1:1/never"}
  rules: [{operations: [CREATE], apiGroups: [det.example.com], apiVersions: [v1], resources: [widgets]}]
`, "create", "-f", "-")
	k("", "-n", "det", "create", "cronjob", "det-cron", "--image=busybox", "--schedule=*/5 * * * *")
	k(`apiVersion: v1
kind: Event
metadata: {name: det-ev, namespace: det}
involvedObject: {kind: Pod, name: det-plain, namespace: det}
reason: Test
message: kaudit detect e2e
type: Normal
`, "create", "-f", "-")
	k("", "-n", "det", "delete", "event", "det-ev")
	k("", "-n", "det", "create", "service", "nodeport", "det-np", "--tcp=80:80")
	k(csrYAML(t, tmp), "create", "-f", "-")
	k("", "certificate", "approve", "det-csr")
	base := "https://127.0.0.1:" + port
	curl(base + "/version?det=1") // anonymous, allowed
	curl(base + "/readyz")        // anonymous health probe: not a hit
	for range 20 {
		curl("-H", "Authorization: Bearer not-a-token", base+"/api/v1/namespaces")
	}
	a.run(t, "down.sh", a.dir) // flushes the audit log

	out, err := exec.Command(bin, "detect", "-o", "jsonl", a.dir).Output()
	if err != nil {
		t.Fatalf("kaudit detect: %v", err)
	}
	var hits []detectHit
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var h detectHit
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		hits = append(hits, h)
	}
	name := func(n string) func(detectHit) bool {
		return func(h detectHit) bool { return h.Event.ObjectRef.Name == n }
	}
	want := map[string]func(detectHit) bool{
		"privileged-pod":            name("det-priv"),
		"run-as-root":               name("det-root"),
		"sensitive-hostpath":        name("det-hostpath"),
		"host-network":              name("det-hostnet"),
		"host-pid":                  name("det-hostpid"),
		"host-ipc":                  name("det-hostipc"),
		"pod-in-system-namespace":   name("det-kube"),
		"ephemeral-container":       name("det-plain"),
		"sa-in-kube-namespace":      func(h detectHit) bool { return h.Event.ObjectRef.Namespace == "kube-system" },
		"bind-privileged-role":      name("det-crb"),
		"role-wildcard-or-escalate": name("det-wild"),
		"role-exec-or-proxy":        name("det-exec"),
		"impersonate-privileged": func(h detectHit) bool {
			return h.Event.Impersonated != nil && h.Event.Impersonated.Username == "mallory"
		},
		"sa-token-minted":             func(h detectHit) bool { return h.Event.ObjectRef.Subresource == "token" }, // det/default, and up.sh's ci/ci-bot
		"system-clusterrole-modified": name("system:basic-user"),
		"secret-read": func(h detectHit) bool {
			return strings.HasPrefix(h.Event.ObjectRef.Name, "det-s") || h.Event.ObjectRef.Namespace == ""
		},
		"secret-enumeration":        name("det-s9"),
		"secret-list-cluster-wide":  func(h detectHit) bool { return h.Event.ObjectRef.Namespace == "" },
		"self-subject-review":       func(h detectHit) bool { return h.Event.ObjectRef.Resource == "selfsubjectaccessreviews" },
		"admission-webhook-changed": name("det-hook"),
		"cronjob-or-daemonset":      name("det-cron"),
		"events-deleted":            name("det-ev"),
		"nodeport-service":          name("det-np"),
		"csr-approved":              name("det-csr"),
		"anonymous-allowed":         func(h detectHit) bool { return strings.HasPrefix(h.Event.RequestURI, "/version?det=1") },
		"auth-failures":             func(h detectHit) bool { return h.Event.User.Username == "" },
	}
	fired := map[string]int{}
	for _, h := range hits {
		fired[h.Rule]++
		ok := want[h.Rule]
		switch {
		case ok == nil:
			t.Errorf("unexpected hit %s", h)
		case !ok(h):
			t.Errorf("hit in the wrong place: %s", h)
		}
	}
	for rule := range want {
		if fired[rule] == 0 {
			t.Errorf("%s did not fire", rule)
		}
	}
	for _, one := range []string{"privileged-pod", "bind-privileged-role", "secret-enumeration", "auth-failures", "anonymous-allowed", "csr-approved"} {
		if fired[one] != 1 {
			t.Errorf("%s fired %d times, want once", one, fired[one])
		}
	}
	t.Logf("%d hits of %d rules", len(hits), len(fired))

	// watch --detect-only printed the same hits (rule and auditID), each once.
	key := func(l string) string {
		var h struct{ Rule, AuditID string }
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("live line %q: %v", l, err)
		}
		return h.Rule + " " + h.AuditID
	}
	batch := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		batch[key(l)]++
	}
	waitUntil(t, "watch --detect-only to print every hit", func() bool { return live.lines() >= len(hits) })
	live.stop()
	liveOut, err := os.ReadFile(live.outs[0])
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(liveOut)), "\n") {
		k := key(l)
		if seen[k]++; batch[k] == 0 || seen[k] > 1 {
			t.Errorf("watch --detect-only printed %s (batch: %d, live so far: %d)", k, batch[k], seen[k])
		}
	}
	if len(seen) != len(batch) {
		t.Errorf("watch --detect-only printed %d distinct hits, kaudit detect %d", len(seen), len(batch))
	}
}

// csrYAML makes a client-certificate CertificateSigningRequest named det-csr.
func csrYAML(t *testing.T, dir string) string {
	t.Helper()
	key, req := filepath.Join(dir, "csr.key"), filepath.Join(dir, "csr.pem")
	if out, err := exec.Command("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", req,
		"-subj", "/CN=mallory/O=det").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	pem, err := os.ReadFile(req)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: det-csr}
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client
  usages: [client auth]
`, base64.StdEncoding.EncodeToString(pem))
}
