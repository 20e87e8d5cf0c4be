package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// canI is one question for kubectl auth can-i: may subject do verb on
// group/resource/subresource (name) in namespace ("" = all namespaces), or
// on a non-resource path?
type canI struct {
	subject, verb, group, resource, sub, namespace, name, path string
}

func (c canI) String() string {
	s := c.subject + " " + c.verb + " "
	if c.path != "" {
		return s + c.path
	}
	s += c.resource
	if c.group != "" {
		s += "." + c.group
	}
	if c.sub != "" {
		s += "/" + c.sub
	}
	if c.name != "" {
		s += " " + c.name
	}
	if c.namespace != "" {
		s += " -n " + c.namespace
	}
	return s
}

func (c canI) args(kubeconfig string) []string {
	a := []string{"--kubeconfig=" + kubeconfig, "auth", "can-i", c.verb, "--as=" + c.subject}
	if c.path != "" {
		return append(a, c.path)
	}
	target := c.resource
	if c.group != "" {
		target += "." + c.group
	}
	if c.name != "" {
		target += "/" + c.name
	}
	a = append(a, target)
	if c.sub != "" {
		a = append(a, "--subresource="+c.sub)
	}
	if c.namespace == "" {
		return append(a, "--all-namespaces")
	}
	return append(a, "-n", c.namespace)
}

// covers reports whether a grant made for denial d also answers q: the
// same verb and resource, in d's namespace (or any, for a cluster-wide
// grant), on d's object (or any, when d named none or was a create).
func (d canI) covers(q canI) bool {
	if d.subject != q.subject || d.verb != q.verb || d.path != q.path || d.group != q.group || d.resource != q.resource || d.sub != q.sub {
		return false
	}
	return (d.namespace == "" || d.namespace == q.namespace) && (d.name == "" || d.verb == "create" && d.sub == "" || d.name == q.name)
}

// neighbours are requests nobody made, next to a denied one: the same in
// another namespace, deletecollection on the resource, another object
// name, another verb, another resource.
func neighbours(d canI) []canI {
	if d.path != "" {
		n := d
		n.path += "-other"
		return []canI{n}
	}
	var out []canI
	if d.namespace != "" {
		n := d
		n.namespace = "default"
		if d.namespace == "default" {
			n.namespace = "team-1"
		}
		out = append(out, n)
	}
	if d.verb != "deletecollection" && d.sub == "" {
		n := d
		n.verb, n.name = "deletecollection", ""
		out = append(out, n)
	}
	if d.name != "" {
		n := d
		n.name += "-other"
		out = append(out, n)
	}
	n := d
	n.verb = "update"
	if d.verb == "update" {
		n.verb = "get"
	}
	out = append(out, n)
	n = d
	n.group, n.resource, n.sub = "", "serviceaccounts", ""
	if d.resource == "serviceaccounts" {
		n.resource = "services"
	}
	return append(out, n)
}

// checkRBAC turns the audit log of api, a real kube-apiserver that ran
// the realcluster workload and is still up, into RBAC objects with kaudit
// rbac -o yaml, applies them as admin and asks the API server: every
// RBAC-denied request must now be allowed (kubectl auth can-i: yes), and
// neighbouring requests that were never made, and were not allowed before,
// must still be refused (no).
func checkRBAC(t *testing.T, bin string, api *apiServer) {
	dir := api.dir
	admin := filepath.Join(dir, "kubeconfig-admin")

	kaudit := func(args ...string) (stdout, stderr []byte) {
		var o, e bytes.Buffer
		cmd := exec.Command(bin, append([]string{"rbac"}, args...)...)
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("kaudit rbac %v: %v\n%s", args, err, e.Bytes())
		}
		return o.Bytes(), e.Bytes()
	}
	table, _ := kaudit("-o", "jsonl", dir)
	yaml, warnings := kaudit("-o", "yaml", "--include-risky", dir) // the grants themselves are under test
	fix := filepath.Join(dir, "kaudit-fix.yaml")
	if err := os.WriteFile(fix, yaml, 0o644); err != nil {
		t.Fatal(err)
	}

	// The denials kaudit found, and the RBAC ones its YAML should fix.
	var denied, covered []canI
	byKind := map[string]int{}
	requests := 0
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		var row struct {
			Subject, Verb, Resource, Namespace, Name, By, Allowed string
			Count                                                 int
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		q := canI{subject: row.Subject, verb: row.Verb, namespace: row.Namespace, name: row.Name}
		if strings.HasPrefix(row.Resource, "/") {
			q.path, q.namespace = row.Resource, ""
		} else {
			res, sub, _ := strings.Cut(row.Resource, "/")
			q.resource, q.group, _ = strings.Cut(res, ".")
			q.sub = sub
		}
		byKind[row.By] += row.Count
		requests += row.Count
		denied = append(denied, q)
		if row.By == "RBAC" && !strings.HasPrefix(row.Allowed, "since ") {
			covered = append(covered, q)
		}
	}
	if len(covered) < 15 {
		t.Fatalf("only %d RBAC denials in the workload's log:\n%s", len(covered), table)
	}
	for _, must := range []string{"SENSITIVE: list on secrets", "UNAUTHENTICATED: binds system:anonymous", "REVOKED?: bob list pods in dev-1"} {
		if !bytes.Contains(yaml, []byte(must)) || !bytes.Contains(warnings, []byte(must)) {
			t.Errorf("warning %q missing from the YAML or stderr", must)
		}
	}
	if regexp.MustCompile(`(?m)^  name: "?system:node:`).Match(yaml) {
		t.Errorf("the YAML grants something to a node, whose denial was the Node authorizer's")
	}

	sars := 0
	ask := func(q canI) bool {
		var o, e bytes.Buffer
		cmd := exec.Command(kubectl(), q.args(admin)...)
		cmd.Stdout, cmd.Stderr = &o, &e
		cmd.Run() // exit 1 means "no"
		switch strings.TrimSpace(o.String()) {
		case "yes":
			return true
		case "no":
			return false
		}
		if strings.Contains(e.String(), `cannot create resource "selfsubjectaccessreviews"`) {
			// system:anonymous may not ask about itself: ask the same
			// authorizer as admin, with a SubjectAccessReview.
			sars++
			return sar(t, admin, q)
		}
		t.Fatalf("kubectl %s: %q %s", strings.Join(q.args(admin), " "), o.String(), e.String())
		return false
	}

	// Neighbours: never made, not covered by any denial's grant, and refused before.
	var probes []canI
	seen := map[canI]bool{}
	alreadyAllowed := 0
	for _, d := range covered {
		for _, n := range neighbours(d) {
			if seen[n] {
				continue
			}
			seen[n] = true
			if anyCovers(denied, n) {
				continue
			}
			if ask(n) {
				alreadyAllowed++
				continue
			}
			probes = append(probes, n)
		}
	}
	stillDenied := 0
	for _, d := range covered {
		if !ask(d) {
			stillDenied++
		}
	}

	if out, err := exec.Command(kubectl(), "--kubeconfig="+admin, "apply", "-f", fix).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, yaml)
	}

	yes, no := 0, 0
	for _, d := range covered {
		if ask(d) {
			yes++
		} else {
			t.Errorf("after apply, still refused: %s", d)
		}
	}
	for _, n := range probes {
		if ask(n) {
			t.Errorf("after apply, a request nobody made is allowed: %s", n)
		} else {
			no++
		}
	}
	node := canI{subject: "system:node:worker-1", verb: "list", resource: "secrets", namespace: "team-1"}
	if ask(node) {
		t.Errorf("after apply, %s is allowed", node)
	}

	header := regexp.MustCompile(`kaudit rbac: (\d+) objects granting (\d+) permissions, for (\d+) denied requests`).FindSubmatch(yaml)
	if header == nil {
		t.Fatalf("no header in the YAML:\n%s", yaml)
	}
	t.Logf("audit log: %d denied requests (%d distinct): by kind %v", requests, len(denied), byKind)
	t.Logf("kaudit rbac -o yaml: %s objects granting %s permissions for %s RBAC denials; %d warnings",
		header[1], header[2], header[3], bytes.Count(warnings, []byte("WARNING:")))
	t.Logf("before apply: %d/%d denials refused; %d neighbours skipped as already allowed", stillDenied, len(covered), alreadyAllowed)
	t.Logf("after apply: can-i yes %d/%d denied requests; can-i no %d/%d neighbouring requests never made (%d questions about system:anonymous, which may not ask itself, went through a SubjectAccessReview as admin)",
		yes, len(covered), no, len(probes), sars)
	if len(probes) < 2*len(covered) {
		t.Errorf("only %d neighbours probed for %d denials", len(probes), len(covered))
	}
}

// sar asks the API server, as admin, whether q.subject may make request q.
func sar(t *testing.T, kubeconfig string, q canI) bool {
	t.Helper()
	spec := map[string]any{"user": q.subject}
	if q.path != "" {
		spec["nonResourceAttributes"] = map[string]string{"path": q.path, "verb": q.verb}
	} else {
		spec["resourceAttributes"] = map[string]string{"namespace": q.namespace, "verb": q.verb, "group": q.group,
			"resource": q.resource, "subresource": q.sub, "name": q.name}
	}
	body, _ := json.Marshal(map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec})
	cmd := exec.Command(kubectl(), "--kubeconfig="+kubeconfig, "create", "-f", "-", "-o", "jsonpath={.status.allowed}")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("SubjectAccessReview %s: %v\n%s", q, err, out)
	}
	return strings.TrimSpace(string(out)) == "true"
}

func anyCovers(ds []canI, q canI) bool {
	for _, d := range ds {
		if d.covers(q) {
			return true
		}
	}
	return false
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "workload.sh: done") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}
