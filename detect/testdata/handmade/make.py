#!/usr/bin/env python3
"""Writes the hand-made fixtures (events.jsonl, thresholds.jsonl) and prints
their label lines for ../labels.tsv. Hand-made: not from any public source.
Run from this directory: python3 make.py >> ../labels.tsv (then dedupe)."""
import json, uuid, datetime

T0 = datetime.datetime(2026, 3, 2, 10, 0, 0, tzinfo=datetime.timezone.utc)
seq = [0]

def ts(sec):
    return (T0 + datetime.timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def ev(user, verb, resource=None, ns=None, name=None, sub=None, code=200, uri=None, ip="203.0.113.9",
       groups=("system:authenticated",), ua="kubectl/v1.34.1 (linux/amd64) kubernetes/93248f9", body=None,
       imp=None, group="", at=0.0, decision=None):
    seq[0] += 1
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse" if body else "Metadata",
         "auditID": str(uuid.UUID(int=0x6b617564697400000000000000000000 + seq[0])), "stage": "ResponseComplete"}
    if uri is None:
        base = "/api/v1" if group == "" else "/apis/" + group + "/v1"
        uri = base + ("/namespaces/" + ns if ns else "") + ("/" + resource if resource else "") + \
              ("/" + name if name else "") + ("/" + sub if sub else "")
    e["requestURI"] = uri
    e["verb"] = verb
    e["user"] = {"username": user, "groups": list(groups)}
    if imp:
        e["impersonatedUser"] = imp
    e["sourceIPs"] = [ip]
    e["userAgent"] = ua
    if resource:
        o = {"resource": resource}
        if ns: o["namespace"] = ns
        if name: o["name"] = name
        if group: o["apiGroup"] = group
        o["apiVersion"] = "v1"
        if sub: o["subresource"] = sub
        e["objectRef"] = o
    e["responseStatus"] = {"metadata": {}, "code": code}
    if body is not None:
        e["requestObject"] = body
    e["requestReceivedTimestamp"] = ts(at)
    e["stageTimestamp"] = ts(at + 0.004)
    if decision is None:
        decision = "forbid" if code == 403 else "allow"
    e["annotations"] = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": ""}
    return e

def pod(spec, name="p"):
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name}, "spec": spec}

C = [{"name": "c", "image": "busybox"}]
RBAC = "rbac.authorization.k8s.io"
single = [
    ("impersonate-privileged", 1, "mallory impersonates system:admin in system:masters",
     ev("mallory", "list", "secrets", ns="prod", imp={"username": "system:admin", "groups": ["system:masters"]})),
    ("impersonate-privileged", 1, "impersonates a kube-system service account",
     ev("mallory", "get", "pods", ns="prod", name="web", imp={"username": "system:serviceaccount:kube-system:replicaset-controller"})),
    ("impersonate-privileged", 1, "impersonates bob with the group system:masters",
     ev("mallory", "get", "nodes", name="n1", imp={"username": "bob", "groups": ["system:masters"]})),
    ("impersonate-privileged", 0, "impersonates an application service account",
     ev("dana@example.com", "list", "secrets", ns="prod", imp={"username": "system:serviceaccount:prod:web", "groups": ["system:serviceaccounts"]})),
    ("csr-approved", 1, "alice approves a CSR",
     ev("alice", "update", "certificatesigningrequests", name="csr-x7", sub="approval", group="certificates.k8s.io")),
    ("csr-approved", 0, "the CSR approving controller (kube-system service account)",
     ev("system:serviceaccount:kube-system:certificate-controller", "update", "certificatesigningrequests", name="csr-n1", sub="approval", group="certificates.k8s.io")),
    ("csr-approved", 0, "approval refused (403)",
     ev("bob", "update", "certificatesigningrequests", name="csr-x8", sub="approval", group="certificates.k8s.io", code=403)),
    ("ephemeral-container", 1, "kubectl debug adds an ephemeral container",
     ev("dana@example.com", "patch", "pods", ns="prod", name="web-0", sub="ephemeralcontainers")),
    ("ephemeral-container", 0, "ephemeral container refused (403)",
     ev("bob", "patch", "pods", ns="prod", name="web-0", sub="ephemeralcontainers", code=403)),
    ("events-deleted", 1, "a user deletes an Event",
     ev("mallory", "delete", "events", ns="prod", name="web-0.17f3")),
    ("events-deleted", 0, "namespace controller deletes a namespace's events",
     ev("system:serviceaccount:kube-system:namespace-controller", "deletecollection", "events", ns="old")),
    ("events-deleted", 0, "delete refused (403)",
     ev("mallory", "delete", "events", ns="prod", name="web-0.17f3", group="events.k8s.io", code=403)),
    ("self-subject-review", 1, "kubectl auth can-i",
     ev("bob", "create", "selfsubjectaccessreviews", group="authorization.k8s.io", code=201)),
    ("self-subject-review", 1, "kubectl auth can-i --list",
     ev("mallory", "create", "selfsubjectrulesreviews", group="authorization.k8s.io", code=201)),
    ("self-subject-review", 0, "a node asks (system principal)",
     ev("system:node:n1", "create", "selfsubjectaccessreviews", group="authorization.k8s.io", code=201, groups=("system:nodes",))),
    ("anonymous-allowed", 0, "kube-probe asks /version",
     ev("system:anonymous", "get", uri="/version", ua="kube-probe/1.34", ip="10.0.0.10", groups=("system:unauthenticated",))),
    ("anonymous-allowed", 0, "readiness probe with a query",
     ev("system:anonymous", "get", uri="/readyz?verbose", ua="curl/8.5.0", ip="10.0.0.10", groups=("system:unauthenticated",))),
    ("anonymous-allowed", 1, "anonymous lists secrets (a bad binding)",
     ev("system:anonymous", "list", "secrets", ns="prod", ua="python-requests/2.32.3", ip="45.155.205.17", groups=("system:unauthenticated",))),
    ("secret-list-cluster-wide", 0, "kube-state-metrics outside kube-system (except)",
     ev("system:serviceaccount:monitoring:kube-state-metrics", "list", "secrets")),
    ("sa-token-minted", 0, "the kubelet mints a pod's token (system principal)",
     ev("system:node:n1", "create", "serviceaccounts", ns="prod", name="web", sub="token", code=201, groups=("system:nodes",))),
    ("sa-token-minted", 1, "a long-lived token Secret",
     ev("mallory", "create", "secrets", ns="prod", code=201, body={"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "keep", "annotations": {"kubernetes.io/service-account.name": "web"}}, "type": "kubernetes.io/service-account-token"})),
    ("bind-privileged-role", 1, "a binding naming the group system:masters",
     ev("mallory", "create", "clusterrolebindings", group=RBAC, code=201, body={"kind": "ClusterRoleBinding", "metadata": {"name": "x"}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "Group", "name": "system:masters"}]})),
    ("role-wildcard-or-escalate", 1, "escalate on clusterroles",
     ev("mallory", "create", "clusterroles", group=RBAC, code=201, body={"kind": "ClusterRole", "metadata": {"name": "esc"}, "rules": [{"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["get", "escalate"]}]})),
    ("role-wildcard-or-escalate", 1, "impersonate users",
     ev("mallory", "patch", "roles", ns="prod", name="r", group=RBAC, body={"rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}]})),
    ("sensitive-hostpath", 1, "the docker socket",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"containers": C, "volumes": [{"name": "s", "hostPath": {"path": "/var/run/docker.sock"}}]}))),
    ("sensitive-hostpath", 1, "the node's root",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"containers": C, "volumes": [{"name": "s", "hostPath": {"path": "/"}}]}))),
    ("sensitive-hostpath", 0, "/var/log is not on the list",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"containers": C, "volumes": [{"name": "s", "hostPath": {"path": "/var/log"}}]}))),
    ("sensitive-hostpath", 0, "/etcd-backup only starts like /etc",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"containers": C, "volumes": [{"name": "s", "hostPath": {"path": "/etcd-backup"}}]}))),
    ("privileged-pod", 1, "a privileged init container",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"initContainers": [{"name": "i", "image": "busybox", "securityContext": {"privileged": True}}], "containers": C}))),
    ("run-as-root", 1, "pod-level runAsUser 0",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"securityContext": {"runAsUser": 0}, "containers": C}))),
    ("privileged-pod", 0, "a DaemonSet's privileged pod in kube-system (system-workload)",
     ev("system:serviceaccount:kube-system:daemon-set-controller", "create", "pods", ns="kube-system", code=201, body=pod({"containers": [{"name": "cni", "image": "cni", "securityContext": {"privileged": True}}]}))),
    ("privileged-pod", 1, "a user's DaemonSet's privileged pod in monitoring: the spec is the user's",
     ev("system:serviceaccount:kube-system:daemon-set-controller", "create", "pods", ns="monitoring", code=201, body=pod({"containers": [{"name": "x", "image": "x", "securityContext": {"privileged": True}}]}))),
    ("exec-token-or-tar", 1, "kubectl cp over websocket (verb get)",
     ev("mallory", "get", "pods", ns="prod", name="web-0", sub="exec", code=101,
        uri="/api/v1/namespaces/prod/pods/web-0/exec?command=tar&command=cf&command=-&command=%2Fetc%2Fapp&container=web&stderr=true&stdout=true")),
    ("pod-exec", 0, "pod logs are not exec",
     ev("bob", "get", "pods", ns="dev", name="web-0", sub="log")),
    ("nodeport-service", 1, "a Service patched to NodePort",
     ev("bob", "patch", "services", ns="dev", name="web", body={"spec": {"type": "NodePort"}})),
    ("cronjob-or-daemonset", 1, "a DaemonSet in monitoring",
     ev("dana@example.com", "create", "daemonsets", ns="monitoring", group="apps", code=201)),
    ("sa-in-kube-namespace", 0, "the service-account controller creates default in kube-node-lease",
     ev("system:serviceaccount:kube-system:service-account-controller", "create", "serviceaccounts", ns="kube-node-lease", code=201)),
    ("secret-list-cluster-wide", 0, "an ingress controller's informer watches secrets in all namespaces",
     ev("system:serviceaccount:ingress-nginx:ingress-nginx", "watch", "secrets", uri="/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=48213&watch=true")),
    ("run-as-root", 1, "an init container with runAsUser 0",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"initContainers": [{"name": "i", "image": "busybox", "securityContext": {"runAsUser": 0}}], "containers": C}))),
    ("run-as-root", 0, "runAsUser 1000",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"securityContext": {"runAsUser": 1000}, "containers": C}))),
    ("privileged-pod", 0, "privileged: false",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": False}}]}))),
    ("host-pid", 1, "hostPID and hostIPC on a user pod",
     ev("bob", "create", "pods", ns="dev", code=201, body=pod({"hostPID": True, "hostIPC": True, "containers": C}))),
    ("secret-list-cluster-wide", 1, "kubectl get secrets -A",
     ev("mallory", "list", "secrets", uri="/api/v1/secrets?limit=500")),
]

def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")

write("events.jsonl", [c[3] for c in single])
for i, (rule, hits, note, _) in enumerate(single):
    print(f"handmade/events.jsonl\t{i+1}\t{rule}\t{hits}\thand-made: {note}")

# Threshold sequences.
cases = []
def seq_case(rule, hits, note, events):
    cases.append((rule, hits, note, events))

seq_case("secret-enumeration", 1, "12 distinct secrets in 2 minutes",
         [ev("mallory", "get", "secrets", ns="prod", name=f"s{i}", at=i * 10) for i in range(12)])
seq_case("secret-enumeration", 0, "the same secret 15 times",
         [ev("app-reader", "get", "secrets", ns="prod", name="db", at=i * 10) for i in range(15)])
seq_case("secret-enumeration", 0, "10 distinct secrets, but over 15 minutes",
         [ev("slow", "get", "secrets", ns="prod", name=f"s{i}", at=i * 100) for i in range(10)])
seq_case("secret-enumeration", 1, "25 distinct secrets in a burst: one hit, then quiet for the window",
         [ev("mallory", "get", "secrets", ns="prod", name=f"t{i}", at=i) for i in range(25)])
seq_case("auth-failures", 1, "25 refusals from one address in a minute",
         [ev("mallory", "list", "secrets", ns=f"ns{i}", code=403, at=i * 2) for i in range(25)])
seq_case("auth-failures", 0, "19 unauthenticated requests from one address",
         [ev("", "get", uri="/api", code=401, ip="198.51.100.200", groups=(), at=i) for i in range(19)])
seq_case("auth-failures", 0, "30 refusals spread over 10 minutes (15 per 5 minutes)",
         [ev("bob", "list", "pods", ns="prod", code=403, ip="203.0.113.41", at=i * 20) for i in range(30)])
seq_case("auth-failures", 0, "20 refusals from 20 addresses",
         [ev("bob", "list", "pods", ns="prod", code=403, ip=f"203.0.113.{i}", at=i) for i in range(20)])

all_ev, line = [], 1
for rule, hits, note, events in cases:
    print(f"handmade/thresholds.jsonl\t{line}-{line + len(events) - 1}\t{rule}\t{hits}\thand-made: {note}")
    all_ev += events
    line += len(events)
write("thresholds.jsonl", all_ev)
