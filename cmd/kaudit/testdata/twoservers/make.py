#!/usr/bin/env python3
"""Writes two API servers' audit logs (cp1/, cp2/) and a webhook copy of some
of cp1's events (webhook.log): hand-made, deterministic, for kaudit's
time-merge and source tests. Each server writes an event when its stage
ends, so a long request lands after shorter ones that started later."""
import json, os
from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)

def ts(ms):
    return (T0 + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def ev(n, user, verb, res, ns, name, start, dur, code=200, server="cp1"):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
         "auditID": "00000000-0000-0000-0000-%012d" % n, "stage": "ResponseComplete",
         "requestURI": "/api/v1/namespaces/%s/%s/%s" % (ns, res, name), "verb": verb,
         "user": {"username": user, "groups": ["system:authenticated"]},
         "sourceIPs": ["10.0.0.%d" % (1 if server == "cp1" else 2)], "userAgent": "kubectl/v1.31.0",
         "objectRef": {"resource": res, "namespace": ns, "name": name, "apiVersion": "v1"},
         "responseStatus": {"code": code},
         "requestReceivedTimestamp": ts(start), "stageTimestamp": ts(start + dur)}
    if code == 403:
        e["annotations"] = {"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""}
    return e

users = ["alice", "bob", "system:kube-scheduler", "mallory"]
logs = {"cp1": [], "cp2": []}
for i in range(40):
    server = "cp1" if i % 3 != 1 else "cp2"
    user = users[i % len(users)]
    code = 403 if user == "mallory" else 200
    dur = 900 if i % 7 == 0 else 20 + i  # every 7th request is slow: written late
    verb = ["get", "list", "delete", "update"][i % 4]
    logs[server].append(ev(i + 1, user, verb, "pods", "prod" if i % 2 else "dev", "web-%d" % i, i * 100, dur, code, server))
os.makedirs("cp1", exist_ok=True)
os.makedirs("cp2", exist_ok=True)
for server, evs in logs.items():
    evs.sort(key=lambda e: e["stageTimestamp"])  # written at stage end
    if server == "cp2":  # writers racing: a few events land just out of order
        for i in (3, 8):
            evs[i], evs[i + 1] = evs[i + 1], evs[i]
    with open(os.path.join(server, "audit.log"), "w") as f:
        for e in evs:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
# The same events, as the audit webhook delivered them: one EventList.
with open("webhook.log", "w") as f:
    f.write(json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": logs["cp1"][:5]}, separators=(",", ":")) + "\n")
