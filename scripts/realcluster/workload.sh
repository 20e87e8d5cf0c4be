#!/usr/bin/env bash
# Drive realistic API traffic against the cluster started by up.sh DIR, as several users.
#
# Usage: workload.sh DIR [N]      N = iterations (default 5); each iteration uses fresh
#                                 namespaces team-<i>, dev-<i>, scratch-<i>.
# Every command and its exit status is appended to DIR/workload.log. Commands marked
# "expect fail" are supposed to be rejected (401/403/404/409/422/400); a mismatch is
# reported but never aborts the run.
#
# There is no kube-controller-manager/scheduler/kubelet, so: pods stay Pending, deployments
# get no ReplicaSets, deleted namespaces stay Terminating, and the "default" ServiceAccount
# is created by admin explicitly (the ServiceAccount admission plugin needs it).
set -uo pipefail

DIR=${1:?usage: workload.sh DIR [N]}
DIR=$(cd "$DIR" && pwd)
N=${2:-5}
START=${START:-1}      # first iteration index (to continue a previous run without name clashes)
LOG=$DIR/workload.log
# build.sh's kubectl (the server's version) when there is one, else the one on PATH.
export PATH=${KAUDIT_RC_BIN:-${KAUDIT_RC_CACHE:-$HOME/.cache/kaudit-realcluster}/bin}:$PATH
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SERVER=$(awk '/server:/ {print $2; exit}' "$DIR/kubeconfig-admin")
CA=$DIR/pki/ca.crt
tok() { awk -F, -v u="$1" '$2==u {print $1}' "$DIR/tokens.csv"; }
ADMIN_TOKEN=$(tok admin)

K() { local u=$1; shift; kubectl --kubeconfig="$DIR/kubeconfig-$u" --cache-dir="$DIR/.kube-cache/$u" "$@"; }

n_ok=0 n_fail=0 n_unexpected=0
_record() { # expect rc desc
  local expect=$1 rc=$2; shift 2
  if [[ $rc == 0 ]]; then n_ok=$((n_ok+1)); else n_fail=$((n_fail+1)); fi
  printf '%s [%s rc=%s] %s\n' "$(date -u +%H:%M:%S)" "$expect" "$rc" "$*" >> "$LOG"
  if { [[ $expect == ok && $rc != 0 ]] || [[ $expect == fail && $rc == 0 ]]; }; then
    n_unexpected=$((n_unexpected+1))
    printf 'UNEXPECTED (expected %s, rc=%s): %s\n' "$expect" "$rc" "$*" | tee -a "$LOG" >&2
    sed 's/^/    /' "$TMP/out" | head -5 | tee -a "$LOG" >&2
  fi
}
ok()  { K "$@" </dev/null >"$TMP/out" 2>&1; _record ok   $? "$*"; }   # ok USER kubectl-args...
no()  { K "$@" </dev/null >"$TMP/out" 2>&1; _record fail $? "$*"; }   # no USER kubectl-args...  (expect rejection)
okf() { local y=$1; shift; printf '%s\n' "$y" | K "$@" >"$TMP/out" 2>&1; _record ok $? "$* <<yaml"; }
nof() { local y=$1; shift; printf '%s\n' "$y" | K "$@" >"$TMP/out" 2>&1; _record fail $? "$* <<yaml"; }
# raw HTTPS with curl (different user agent, lets us send odd requests)
curlx() { # expect token method path [curl args...]
  local expect=$1 token=$2 method=$3 path=$4; shift 4
  local code
  code=$(curl -sS -o "$TMP/out" -w '%{http_code}' --cacert "$CA" ${token:+-H "Authorization: Bearer $token"} \
         -X "$method" "$@" "$SERVER$path" 2>>"$TMP/out")
  local rc=0; [[ $code == 2* ]] || rc=$code
  _record "$expect" "$rc" "curl $method $path (token=${token:0:4}.. http $code)"
}

pod_yaml() { # name ns labels-json
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $2
  labels: {app: web, tier: frontend, iteration: "$3"}
  annotations: {kaudit.example.com/owner: "team-$3", kaudit.example.com/ticket: "OPS-$((RANDOM % 9000 + 1000))"}
spec:
  automountServiceAccountToken: false
  containers:
  - name: web
    image: nginx:1.27
    ports: [{containerPort: 80, name: http}]
    env: [{name: MODE, value: production}, {name: ITERATION, value: "$3"}]
    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 128Mi}}
  - name: sidecar
    image: busybox:1.36
    command: ["sh", "-c", "while true; do date; sleep 30; done"]
EOF
}

echo "workload.sh: $N iteration(s) against $SERVER, log $LOG"
t_start=$(date +%s)

# ------------------------------------------------------------------ one-time setup (idempotent)
if ! K admin get crd widgets.kaudit.example.com >/dev/null 2>&1; then
  okf "$(cat <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.kaudit.example.com}
spec:
  group: kaudit.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
EOF
)" admin apply -f -
  ok admin wait --for=condition=Established crd/widgets.kaudit.example.com --timeout=30s
fi
okf "$(cat <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployment-image-updater}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, patch]
---
# NB: the built-in "view" ClusterRole is aggregated by kube-controller-manager, which is not
# running here, so it has no rules; use an explicit read-only role instead.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-viewer}
rules:
- apiGroups: ["", apps]
  resources: [pods, configmaps, services, deployments, replicasets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widget-editor}
rules:
- apiGroups: [kaudit.example.com]
  resources: [widgets]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ci-config, namespace: ci}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-bot-config, namespace: ci}
subjects: [{kind: ServiceAccount, name: ci-bot, namespace: ci}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ci-config}
EOF
)" admin apply -f -

for i in $(seq "$START" $((START + N - 1))); do
  NS=team-$i DEV=dev-$i SCR=scratch-$i
  echo "workload.sh: iteration $i ($(date -u +%H:%M:%S))"

  # ---------------------------------------------------------------- admin: namespaces + SAs
  ok admin create namespace "$NS"
  ok admin create namespace "$DEV"
  ok admin create namespace "$SCR"
  ok admin label namespace "$NS" team=platform env=prod --overwrite
  ok admin annotate namespace "$DEV" kaudit.example.com/owner=bob
  for ns in "$NS" "$DEV" "$SCR"; do ok admin -n "$ns" create serviceaccount default; done
  ok admin get namespaces
  ok admin get --raw /livez
  ok admin get --raw /healthz           # policy level None: must NOT appear in the log

  # ---------------------------------------------------------------- admin: deployments
  ok admin -n "$NS" create deployment web --image=nginx:1.27 --replicas=2
  ok admin -n "$NS" create deployment api --image=images.example.invalid/api:v1.4.2 --replicas=1 --port=8080
  ok admin -n "$NS" scale deployment web --replicas=3
  ok admin -n "$NS" set image deployment/api api=images.example.invalid/api:v1.4.3
  ok admin -n "$NS" annotate deployment web kubernetes.io/change-cause="iteration $i rollout"
  ok admin -n "$NS" rollout restart deployment/web
  ok admin -n "$NS" label deployment api tier=backend
  ok admin -n "$NS" get deployments -o wide
  ok admin -n "$NS" get deployment web -o yaml

  # ---------------------------------------------------------------- admin: configmaps/secrets
  for j in $(seq 1 8); do ok admin -n "$NS" create configmap "cfg-$j" --from-literal=key=value-$j --from-literal=iteration="$i"; done
  bulk=""
  for j in $(seq 1 10); do bulk+=$(printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bulk-%s, labels: {batch: bulk}}\ndata: {n: "%s"}\n' "$j" "$j")$'\n'; done
  okf "$bulk" admin -n "$NS" apply -f -                       # client-side apply: GET + POST each
  okf "$bulk" admin -n "$NS" apply --server-side -f -          # server-side apply: PATCH application/apply-patch+yaml
  ok admin -n "$NS" patch configmap cfg-1 --type=merge -p '{"data":{"key":"patched"}}'
  ok admin -n "$NS" patch configmap cfg-2 --type=json -p '[{"op":"add","path":"/data/extra","value":"x"}]'
  ok admin -n "$NS" create secret generic db-creds --from-literal=username=app --from-literal=password="s3cr3t-$RANDOM"
  ok admin -n "$NS" create secret docker-registry regcred --docker-server=images.example.invalid --docker-username=u --docker-password=p
  ok admin -n "$NS" get secret db-creds -o yaml
  ok admin -n "$NS" get secrets
  ok admin -n "$NS" get configmaps -l batch=bulk
  # deletecollection via raw API (verb deletecollection)
  curlx ok "$ADMIN_TOKEN" DELETE "/api/v1/namespaces/$NS/configmaps?labelSelector=batch%3Dbulk"

  # ---------------------------------------------------------------- 409 / 404 / 422 / 400
  no admin -n "$NS" create configmap cfg-1 --from-literal=dup=1          # 409 AlreadyExists
  ok admin -n "$NS" get configmap cfg-3 -o json
  cp "$TMP/out" "$TMP/stale.json"
  ok admin -n "$NS" patch configmap cfg-3 -p '{"data":{"key":"moved-on"}}'
  no admin -n "$NS" replace -f "$TMP/stale.json"                          # 409 Conflict (stale resourceVersion)
  no admin -n "$NS" get configmap does-not-exist                          # 404
  no admin -n "$NS" delete secret no-such-secret                          # 404 on delete
  no admin get --raw "/api/v1/namespaces/$NS/widgets"                     # 404 unknown resource
  no admin get --raw "/apis/nonexistent.example.com/v1/things"            # 404 unknown group
  no admin -n "$NS" create configmap Bad_Name --from-literal=a=b          # 422 Invalid
  curlx fail "$ADMIN_TOKEN" POST "/api/v1/namespaces/$NS/configmaps" -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":'   # 400 malformed body

  # ---------------------------------------------------------------- pods (RequestResponse level)
  K bob -n "$DEV" get pods -w --request-timeout=6s </dev/null >/dev/null 2>&1 &   # bob watches (allowed after RBAC below; first one may 403)
  watch_pid=$!
  for j in $(seq 1 6); do okf "$(pod_yaml "web-$j" "$NS" "$i")" admin create -f -; done
  ok admin -n "$NS" run "debug-$i" --image=busybox:1.36 --restart=Never --labels=app=debug -- sleep 3600
  okf "$(pod_yaml "web-applied" "$NS" "$i")" admin apply -f -
  okf "$(pod_yaml "web-applied" "$NS" "$i" | sed -e 's/image: nginx:1.27$/image: nginx:1.27.3/' -e 's/OPS-[0-9]*/OPS-0001/')" admin apply -f -   # pods patch (image + annotation)
  ok admin -n "$NS" label pod web-1 release=stable
  ok admin -n "$NS" annotate pod web-2 kaudit.example.com/checked=true
  ok admin -n "$NS" patch pod web-3 --type=merge -p '{"metadata":{"labels":{"tier":"canary"}}}'
  ok admin -n "$NS" get pod web-4 -o json
  jq '.metadata.labels.updated="by-replace"' "$TMP/out" > "$TMP/pod.json"
  ok admin replace -f "$TMP/pod.json"                                     # pods update (PUT)
  ok admin -n "$NS" get pods -o wide
  ok admin get pods -A
  ok admin -n "$NS" logs web-1 -c web                                     # pods/log on a pod with no node: 204 No Content
  no admin -n "$NS" exec web-1 -c web -- ls /                             # pods/exec on unscheduled pod
  ok admin -n "$NS" delete pod web-5 web-6
  ok admin -n "$NS" delete pod "debug-$i" --wait=false
  no admin -n "$NS" delete pod web-5                                      # 404 already gone
  # pod in a namespace with no "default" ServiceAccount is rejected by admission (403, not RBAC)
  ok admin create namespace "nosa-$i"
  nof "$(pod_yaml "orphan" "nosa-$i" "$i")" admin create -f -

  # ---------------------------------------------------------------- RBAC for bob / dev group
  okf "$(cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: $DEV}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: config-editor, namespace: $DEV}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-pod-reader, namespace: $DEV}
subjects: [{kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-config-editor, namespace: $DEV}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-editor}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-view, namespace: $NS}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-viewer}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-bot-deployer, namespace: $NS}
subjects: [{kind: ServiceAccount, name: ci-bot, namespace: ci}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployment-image-updater}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-widgets, namespace: $DEV}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: widget-editor}
EOF
)" admin apply -f -
  ok admin -n "$DEV" create deployment notes --image=nginx:1.27
  for j in 1 2; do okf "$(pod_yaml "dev-pod-$j" "$DEV" "$i")" admin create -f -; done
  ok admin -n "$DEV" get rolebindings,roles -o wide

  # ---------------------------------------------------------------- authz reviews
  okf "$(cat <<EOF
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: alice
  resourceAttributes: {namespace: $NS, verb: get, resource: secrets}
EOF
)" admin create -f - -o yaml                                                 # RequestResponse level
  okf "$(cat <<EOF
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: bob
  groups: [dev]
  resourceAttributes: {namespace: $DEV, verb: list, resource: pods}
EOF
)" admin create -f - -o yaml
  okf "$(cat <<EOF
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: $(tok bob)}
EOF
)" admin create -f - -o yaml                                                 # Metadata level (body not logged)
  okf "$(cat <<EOF
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: not-a-real-token-$i}
EOF
)" admin create -f - -o yaml
  no admin auth can-i delete pods -n "$NS" --as=bob                       # impersonated SSAR (answer: no -> exit 1)
  ok admin auth can-i --list -n "$DEV" --as=bob --as-group=dev
  ok admin -n "$DEV" get pods --as=bob                                    # impersonation, allowed
  no admin -n "$NS" get secrets --as=alice                                # impersonation, forbidden
  ok admin get pods -A --field-selector spec.nodeName=worker-1 --as=system:node:worker-1 --as-group=system:nodes   # Node authorizer
  no admin get secrets -n "$NS" --as=system:node:worker-1 --as-group=system:nodes

  # ---------------------------------------------------------------- alice: no rights
  ok alice auth whoami
  no alice -n "$NS" get secrets
  no alice -n "$NS" get secret db-creds
  no alice -n "$NS" delete pod web-1
  no alice get nodes
  no alice get namespaces
  no alice get pods -A
  no alice -n default create configmap alice-was-here --from-literal=a=1
  no alice -n "$NS" get pods -w --request-timeout=2s
  no alice -n "$NS" auth can-i create deployments                          # SSAR allowed, answer "no" -> exit 1
  no alice -n "$NS" get widgets
  no alice get pods -n "$NS" --as=admin                                   # impersonate forbidden
  ok alice get --raw /api                                                 # discovery is allowed
  ok alice get --raw /readyz

  # ---------------------------------------------------------------- bob: some rights in dev-<i>
  wait "$watch_pid" 2>/dev/null
  K bob -n "$DEV" get pods -w --request-timeout=5s </dev/null >/dev/null 2>&1 &
  watch_pid=$!
  ok bob auth whoami
  ok bob -n "$DEV" get pods
  ok bob -n "$DEV" get pod dev-pod-1 -o yaml
  ok bob -n "$DEV" get deployments
  ok bob -n "$NS" get pods                                                # via RoleBinding to ClusterRole view (group dev)
  ok bob -n "$NS" get deployment web
  ok bob -n "$DEV" create configmap "bob-notes-$i" --from-literal=todo="ship it"
  ok bob -n "$DEV" patch configmap "bob-notes-$i" -p '{"data":{"todo":"shipped"}}'
  ok bob -n "$DEV" label configmap "bob-notes-$i" owner=bob
  okf "$(printf 'apiVersion: kaudit.example.com/v1\nkind: Widget\nmetadata: {name: w-%s, namespace: %s}\nspec: {size: %s, color: blue}\n' "$i" "$DEV" "$i")" bob create -f -
  ok bob -n "$DEV" patch widget "w-$i" --type=merge -p '{"spec":{"color":"green"}}'
  ok bob -n "$DEV" get widgets
  ok bob -n "$DEV" delete configmap "bob-notes-$i"
  no bob -n "$DEV" get secrets
  no bob -n "$NS" get secret db-creds                                     # view role excludes secrets
  no bob -n "$DEV" delete pod dev-pod-1
  no bob -n "$DEV" create deployment bob-app --image=nginx
  no bob -n "$NS" create configmap sneaky --from-literal=a=b
  no bob -n "$NS" scale deployment web --replicas=10
  no bob -n "$DEV" get pods --as=admin                                    # impersonation denied
  no bob get clusterroles
  ok bob auth can-i list pods -n "$DEV"
  no bob auth can-i delete pods -n "$DEV"
  ok bob auth can-i --list -n "$DEV"                                      # SelfSubjectRulesReview
  ok bob -n "$DEV" logs dev-pod-1 -c web --tail=5                         # allowed by pod-reader (pods/log): 204
  wait "$watch_pid" 2>/dev/null

  # ---------------------------------------------------------------- carol (x509 client cert, groups dev+qa)
  ok carol auth whoami
  ok carol -n "$DEV" create configmap "carol-$i" --from-literal=by=carol
  ok carol -n "$DEV" get configmaps
  no carol -n "$DEV" get secrets
  no carol -n "$DEV" delete deployment notes

  # ---------------------------------------------------------------- ci-bot (real ServiceAccount token)
  ok ci-bot auth whoami
  ok ci-bot -n ci create configmap "build-$i" --from-literal=commit="$(openssl rand -hex 20)"
  ok ci-bot -n ci get configmaps
  ok ci-bot -n "$NS" set image deployment/web nginx="nginx:1.27.$i"
  ok ci-bot -n "$NS" get deployment web
  no ci-bot -n "$NS" delete deployment web
  no ci-bot -n "$NS" get secrets
  no ci-bot -n "$NS" create configmap ci-leak --from-literal=a=b

  # ---------------------------------------------------------------- anonymous / bad credentials
  curlx fail ""               GET "/api/v1/namespaces/$NS/secrets"      # 403 system:anonymous
  curlx ok   ""               GET "/version"                            # level None
  curlx ok   ""               GET "/readyz"
  curlx fail "bogus-token-$i" GET "/api/v1/pods"                          # 401
  curlx ok   "$ADMIN_TOKEN"   GET "/api/v1/namespaces/$NS/pods?limit=2"
  curlx ok   "$ADMIN_TOKEN"   GET "/apis/apps/v1/namespaces/$NS/deployments?watch=1&timeoutSeconds=1" --max-time 5

  # ---------------------------------------------------------------- scratch namespace lifecycle
  ok admin -n "$SCR" create configmap scratch --from-literal=a=b
  ok admin delete namespace "$SCR" --wait=false                         # stays Terminating (no namespace controller)
  no admin -n "$SCR" create configmap after-delete --from-literal=a=b     # 403 namespace is being terminated
  ok admin get namespace "$SCR" -o yaml

  # ---------------------------------------------------------------- cleanup some of team-<i>
  ok admin -n "$NS" delete deployment api
  ok admin -n "$NS" delete configmap cfg-7 cfg-8
  ok admin -n "$NS" delete secret regcred
  ok admin -n "$NS" delete pod web-applied
  ok admin -n "$DEV" delete rolebinding bob-pod-reader
  no bob -n "$DEV" get pods                                               # access revoked -> 403
done

t_end=$(date +%s)
echo "workload.sh: done in $((t_end - t_start))s: $n_ok commands succeeded, $n_fail failed (expected rejections), $n_unexpected unexpected"
ls -l "$DIR"/audit*.log* 2>/dev/null
