#!/usr/bin/env bash
# Start a real etcd + kube-apiserver on loopback, with audit logging, and wait for /readyz.
#
# Usage: up.sh DIR
#
# Leaves both servers running (PIDs in DIR/etcd.pid, DIR/kube-apiserver.pid); stop with down.sh DIR.
# Writes DIR/kubeconfig-{admin,alice,bob,carol,ci-bot} and DIR/env.sh.
#
# Env (all optional):
#   KAUDIT_RC_BIN          dir with kube-apiserver + etcd  (default $HOME/.cache/kaudit-realcluster/bin)
#   AUDIT_POLICY           datadog | allstages | /path/to/policy.yaml   (default datadog)
#   AUDIT_LOG_MAXSIZE      MB before rotation   (default 1)
#   AUDIT_LOG_MAXBACKUP    rotated files kept   (default 5)
#   AUDIT_LOG_COMPRESS     1 = gzip rotated files (--audit-log-compress)  (default 1)
#   AUDIT_WEBHOOK_URL      if set, also enable the webhook backend (batch mode) POSTing to this URL
#   AUDIT_WEBHOOK_BATCH_MAX_WAIT  (default 2s)
#   AUDIT_WEBHOOK_CA       PEM file: verify the webhook receiver against it (default: any certificate)
#   AUDIT_WEBHOOK_CLIENT_CERT, AUDIT_WEBHOOK_CLIENT_KEY   PEM files: the API server's client
#                          certificate for the webhook (default: no credentials)
#   APISERVER_PORT         (default 16443)   ETCD_CLIENT_PORT (default 12379)   ETCD_PEER_PORT (default 12380)
#   READY_TIMEOUT          seconds to wait for /readyz  (default 120)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: up.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
BIN=${KAUDIT_RC_BIN:-${KAUDIT_RC_CACHE:-$HOME/.cache/kaudit-realcluster}/bin}
export PATH=$BIN:$PATH   # build.sh's kubectl, the server's version, when there is one
APISERVER_PORT=${APISERVER_PORT:-16443}
ETCD_CLIENT_PORT=${ETCD_CLIENT_PORT:-12379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-12380}
READY_TIMEOUT=${READY_TIMEOUT:-120}
AUDIT_POLICY=${AUDIT_POLICY:-datadog}
case $AUDIT_POLICY in
  datadog)   POLICY_SRC=$HERE/policy-datadog.yaml ;;
  allstages) POLICY_SRC=$HERE/policy-allstages.yaml ;;
  *)         POLICY_SRC=$AUDIT_POLICY ;;
esac

for b in kube-apiserver etcd; do
  [[ -x $BIN/$b ]] || { echo "up.sh: $BIN/$b missing; run build.sh first" >&2; exit 1; }
done
for p in etcd kube-apiserver; do
  if [[ -f $DIR/$p.pid ]] && kill -0 "$(cat "$DIR/$p.pid")" 2>/dev/null; then
    echo "up.sh: $p already running (pid $(cat "$DIR/$p.pid")); run down.sh $DIR first" >&2; exit 1
  fi
done

t0=$(date +%s.%N)
PKI=$DIR/pki
mkdir -p "$PKI" "$DIR/etcd-data"
chmod 700 "$DIR/etcd-data"

# ---------------------------------------------------------------- PKI (openssl, once per DIR)
if [[ ! -f $PKI/apiserver.crt ]]; then
  cat > "$PKI/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = kaudit-realcluster-ca
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
  cat > "$PKI/server.ext" <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1
EOF
  cat > "$PKI/client.ext" <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
EOF
  openssl req -x509 -config "$PKI/ca.cnf" -extensions v3_ca -newkey rsa:2048 -nodes \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" \
    -subj "/CN=kube-apiserver" 2>/dev/null
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -out "$PKI/apiserver.crt" -days 3650 -extfile "$PKI/server.ext" 2>/dev/null
  # x509 client-cert user "carol" in groups dev + qa (CN = user, O = groups)
  openssl req -newkey rsa:2048 -nodes -keyout "$PKI/carol.key" -out "$PKI/carol.csr" \
    -subj "/O=dev/O=qa/CN=carol" 2>/dev/null
  openssl x509 -req -in "$PKI/carol.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -out "$PKI/carol.crt" -days 3650 -extfile "$PKI/client.ext" 2>/dev/null
  # service-account token signing key
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
fi

# ---------------------------------------------------------------- static tokens (once per DIR)
# format: token,user,uid,"group1,group2"
if [[ ! -f $DIR/tokens.csv ]]; then
  {
    echo "$(openssl rand -hex 16),admin,uid-admin,\"system:masters\""
    echo "$(openssl rand -hex 16),alice,uid-alice"
    echo "$(openssl rand -hex 16),bob,uid-bob,\"dev\""
  } > "$DIR/tokens.csv"
  chmod 600 "$DIR/tokens.csv"
fi
token_of() { awk -F, -v u="$1" '$2==u {print $1}' "$DIR/tokens.csv"; }

cp "$POLICY_SRC" "$DIR/audit-policy.yaml"

# ---------------------------------------------------------------- optional webhook backend
WEBHOOK_ARGS=()
if [[ -n ${AUDIT_WEBHOOK_URL:-} ]]; then
  cat > "$DIR/audit-webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: audit-sink
  cluster:
    server: ${AUDIT_WEBHOOK_URL}
$(if [[ -n ${AUDIT_WEBHOOK_CA:-} ]]; then echo "    certificate-authority: $AUDIT_WEBHOOK_CA"
  else echo "    insecure-skip-tls-verify: $( [[ $AUDIT_WEBHOOK_URL == https://* ]] && echo true || echo false )"; fi)
users:
- name: kube-apiserver
$(if [[ -n ${AUDIT_WEBHOOK_CLIENT_CERT:-} ]]; then
    echo "  user: {client-certificate: $AUDIT_WEBHOOK_CLIENT_CERT, client-key: ${AUDIT_WEBHOOK_CLIENT_KEY:?AUDIT_WEBHOOK_CLIENT_KEY goes with AUDIT_WEBHOOK_CLIENT_CERT}}"
  else echo "  user: {}"; fi)
contexts:
- name: default
  context: {cluster: audit-sink, user: kube-apiserver}
current-context: default
EOF
  WEBHOOK_ARGS=(
    --audit-webhook-config-file="$DIR/audit-webhook.kubeconfig"
    --audit-webhook-mode=batch
    --audit-webhook-batch-max-wait="${AUDIT_WEBHOOK_BATCH_MAX_WAIT:-2s}"
    --audit-webhook-batch-max-size=400
    --audit-webhook-initial-backoff=1s
  )
fi

COMPRESS_ARGS=()
EXTRA_ARGS=()   # APISERVER_EXTRA_ARGS: more kube-apiserver flags, space-separated
[[ -n ${APISERVER_EXTRA_ARGS:-} ]] && read -ra EXTRA_ARGS <<< "$APISERVER_EXTRA_ARGS"
[[ ${AUDIT_LOG_COMPRESS:-1} == 1 ]] && COMPRESS_ARGS=(--audit-log-compress)

# ---------------------------------------------------------------- etcd
setsid "$BIN/etcd" \
  --name=kaudit --data-dir="$DIR/etcd-data" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="kaudit=http://127.0.0.1:$ETCD_PEER_PORT" \
  --log-level=warn \
  </dev/null >"$DIR/etcd.log" 2>&1 &
echo $! > "$DIR/etcd.pid"

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"' && break
  kill -0 "$(cat "$DIR/etcd.pid")" 2>/dev/null || { echo "up.sh: etcd died; see $DIR/etcd.log" >&2; tail -20 "$DIR/etcd.log" >&2; exit 1; }
  sleep 0.2
done
t_etcd=$(date +%s.%N)

# ---------------------------------------------------------------- kube-apiserver
setsid "$BIN/kube-apiserver" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --token-auth-file="$DIR/tokens.csv" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --endpoint-reconciler-type=none \
  --audit-policy-file="$DIR/audit-policy.yaml" \
  --audit-log-path="$DIR/audit.log" \
  --audit-log-format=json \
  --audit-log-maxsize="${AUDIT_LOG_MAXSIZE:-1}" \
  --audit-log-maxbackup="${AUDIT_LOG_MAXBACKUP:-5}" \
  "${COMPRESS_ARGS[@]}" \
  "${WEBHOOK_ARGS[@]}" \
  "${EXTRA_ARGS[@]}" \
  --v=1 \
  </dev/null >"$DIR/kube-apiserver.log" 2>&1 &
echo $! > "$DIR/kube-apiserver.pid"

ADMIN_TOKEN=$(token_of admin)
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
        "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null | grep -qx ok; do
  if ! kill -0 "$(cat "$DIR/kube-apiserver.pid")" 2>/dev/null; then
    echo "up.sh: kube-apiserver died; see $DIR/kube-apiserver.log" >&2; tail -30 "$DIR/kube-apiserver.log" >&2; exit 1
  fi
  if (( $(date +%s) > deadline )); then
    echo "up.sh: /readyz not ok after ${READY_TIMEOUT}s" >&2
    curl -sS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
      "https://127.0.0.1:$APISERVER_PORT/readyz?verbose" >&2 || true
    exit 1
  fi
  sleep 0.5
done
t_ready=$(date +%s.%N)

# ---------------------------------------------------------------- kubeconfigs
write_kubeconfig() { # name  user-yaml-lines...
  local name=$1; shift
  {
    cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kaudit
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $name
  user:
EOF
    printf '    %s\n' "$@"
    cat <<EOF
contexts:
- name: $name@kaudit
  context: {cluster: kaudit, user: $name}
current-context: $name@kaudit
EOF
  } > "$DIR/kubeconfig-$name"
  chmod 600 "$DIR/kubeconfig-$name"
}
for u in admin alice bob; do write_kubeconfig "$u" "token: $(token_of "$u")"; done
write_kubeconfig carol "client-certificate: $PKI/carol.crt" "client-key: $PKI/carol.key"

# ci-bot: a REAL ServiceAccount (ci/ci-bot) with a bound token from the TokenRequest API.
K="kubectl --kubeconfig=$DIR/kubeconfig-admin --cache-dir=$DIR/.kube-cache"
$K get namespace ci >/dev/null 2>&1 || $K create namespace ci >/dev/null
$K -n ci get serviceaccount ci-bot >/dev/null 2>&1 || $K -n ci create serviceaccount ci-bot >/dev/null
write_kubeconfig ci-bot "token: $($K -n ci create token ci-bot --duration=48h)"

cat > "$DIR/env.sh" <<EOF
# source this file: kubeconfigs for the kaudit real cluster in $DIR
export KAUDIT_RC_DIR=$DIR
export KUBECONFIG=$DIR/kubeconfig-admin
alias k-admin='kubectl --kubeconfig=$DIR/kubeconfig-admin'
alias k-alice='kubectl --kubeconfig=$DIR/kubeconfig-alice'
alias k-bob='kubectl --kubeconfig=$DIR/kubeconfig-bob'
alias k-carol='kubectl --kubeconfig=$DIR/kubeconfig-carol'
alias k-ci='kubectl --kubeconfig=$DIR/kubeconfig-ci-bot'
EOF

awk -v a="$t0" -v b="$t_etcd" -v c="$t_ready" 'BEGIN{printf "up.sh: etcd healthy after %.1fs, kube-apiserver /readyz ok after %.1fs (total %.1fs)\n", b-a, c-b, c-a}' 
cat <<EOF
up.sh: cluster is up
  apiserver : https://127.0.0.1:$APISERVER_PORT  (pid $(cat "$DIR/kube-apiserver.pid"), log $DIR/kube-apiserver.log)
  etcd      : http://127.0.0.1:$ETCD_CLIENT_PORT   (pid $(cat "$DIR/etcd.pid"))
  audit log : $DIR/audit.log  (policy $(basename "$POLICY_SRC"), maxsize ${AUDIT_LOG_MAXSIZE:-1}MB, maxbackup ${AUDIT_LOG_MAXBACKUP:-5}, compress ${AUDIT_LOG_COMPRESS:-1})
  webhook   : ${AUDIT_WEBHOOK_URL:-disabled}
  users     : kubectl --kubeconfig=$DIR/kubeconfig-admin   (admin, group system:masters, static token)
              kubectl --kubeconfig=$DIR/kubeconfig-alice   (alice, no groups, static token)
              kubectl --kubeconfig=$DIR/kubeconfig-bob     (bob, group dev, static token)
              kubectl --kubeconfig=$DIR/kubeconfig-carol   (carol, groups dev+qa, x509 client cert)
              kubectl --kubeconfig=$DIR/kubeconfig-ci-bot  (system:serviceaccount:ci:ci-bot, bound SA token)
  or: source $DIR/env.sh
  stop: $HERE/down.sh $DIR
EOF
