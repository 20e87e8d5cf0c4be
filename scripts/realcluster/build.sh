#!/usr/bin/env bash
# Build a real kube-apiserver, etcd and kubectl from Go modules (no git clone, no docker).
#
# Usage: build.sh            (idempotent: builds only the binaries missing from $KAUDIT_RC_BIN)
#        FORCE=1 build.sh    (rebuild all three)
#
# Env:
#   K8S_VERSION         k8s.io/kubernetes version          (default v1.37.2)
#   STAGING_VERSION     k8s.io/<staging> version           (default v0.<minor>.<patch> of K8S_VERSION)
#   KAUDIT_RC_CACHE     cache root                         (default $HOME/.cache/kaudit-realcluster)
#   KAUDIT_RC_BIN       output dir for binaries            (default $KAUDIT_RC_CACHE/bin)
#   GOTOOLCHAIN         passed through to go (e.g. go1.27.3 if a newer k8s needs it)
#
# How it works: k8s.io/kubernetes' go.mod has `replace k8s.io/<x> => ./staging/src/k8s.io/<x>`
# for all staging repos, so `go install k8s.io/kubernetes/cmd/kube-apiserver@v` is refused.
# We create a throw-away wrapper module that requires k8s.io/kubernetes and replaces every
# staging module it requires with the published k8s.io/<x> v0.Y.Z, then builds the command.
# etcd is built from the same module graph (k8s.io/kubernetes already depends on
# go.etcd.io/etcd/server/v3), via a 3-line main that calls etcdmain.Main. kubectl comes from
# the same graph (k8s.io/kubernetes/cmd/kubectl), so the client matches the server's version:
# Debian's kubernetes-client is too old for `kubectl create token`, which up.sh needs.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
STAGING_VERSION=${STAGING_VERSION:-v0.${K8S_VERSION#v1.}}
CACHE=${KAUDIT_RC_CACHE:-$HOME/.cache/kaudit-realcluster}
BIN=${KAUDIT_RC_BIN:-$CACHE/bin}
SRC=$CACHE/src-$K8S_VERSION

# One build at a time: two runs would rewrite the same $SRC/go.mod.
mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9

missing=()
for b in kube-apiserver etcd kubectl; do
  [[ -x $BIN/$b && ${FORCE:-0} != 1 ]] || missing+=("$b")
done
if [[ ${#missing[@]} == 0 ]]; then
  echo "build.sh: kube-apiserver, etcd and kubectl already in $BIN (FORCE=1 to rebuild)"
  "$BIN/kube-apiserver" --version || true
  "$BIN/etcd" --version 2>/dev/null | head -1 || true
  exit 0
fi
wants() { [[ " ${missing[*]} " == *" $1 "* ]]; }

command -v go >/dev/null || { echo "build.sh: go not found in PATH" >&2; exit 1; }
mkdir -p "$BIN" "$SRC/cmd/etcd"
cd "$SRC"
start=$(date +%s)

echo "build.sh: building ${missing[*]}: k8s.io/kubernetes@$K8S_VERSION, staging @$STAGING_VERSION, src=$SRC, bin=$BIN"
echo "build.sh: $(go version)"

# Fresh go.mod each time (cheap; module cache does the heavy lifting).
rm -f go.mod go.sum
cat > go.mod <<EOF
module kaudit.local/realcluster

go 1.26.0
EOF
cat > cmd/etcd/main.go <<'EOF'
// Minimal etcd server binary: same code path as the upstream etcd main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF

# Read k8s.io/kubernetes' own go.mod from the module cache.
modjson=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
kmod=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[[ -f $kmod ]] || { echo "build.sh: cannot locate go.mod of k8s.io/kubernetes@$K8S_VERSION" >&2; printf '%s\n' "$modjson" >&2; exit 1; }
# Match the go directive of k8s.io/kubernetes (also selects its godebug defaults).
kgo=$(awk '$1=="go"{print $2; exit}' "$kmod")
go mod edit -go="$kgo"
go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"

n=0
for m in $(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod"); do
  # only modules that k8s.io/kubernetes actually requires (sample-* are not published)
  if awk -v m="$m" '($1==m || ($1=="require" && $2==m)) {found=1} END{exit !found}' "$kmod"; then
    go mod edit -replace="$m=$m@$STAGING_VERSION"
    n=$((n+1))
  fi
done
echo "build.sh: added $n staging replace directives"
go mod edit -tool=k8s.io/kubernetes/cmd/kube-apiserver -tool=k8s.io/kubernetes/cmd/kubectl

go mod tidy
LDFLAGS="-s -w \
  -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) \
  -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
if wants kube-apiserver; then
  echo "build.sh: building kube-apiserver ..."
  CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
fi
if wants etcd; then
  echo "build.sh: building etcd ..."
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" ./cmd/etcd
fi
if wants kubectl; then
  echo "build.sh: building kubectl ..."
  CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/kubectl" k8s.io/kubernetes/cmd/kubectl
fi

end=$(date +%s)
echo "build.sh: done in $((end-start))s"
"$BIN/kube-apiserver" --version
"$BIN/etcd" --version | head -2
"$BIN/kubectl" version --client | head -1
ls -l "$BIN"
