// Package e2e holds kaudit's end-to-end tests: the kaudit binary, built once
// per run, against real processes — kill -9 under log rotation, a real
// kube-apiserver and etcd (scripts/realcluster), real receivers for
// --forward (scripts/receivers), and the terminal UI driven through tmux.
//
// They are slow and need more than Go, so they run only with KAUDIT_E2E=1
// (.ci/run sets it); without it every test skips:
//
//	bash scripts/realcluster/build.sh && bash scripts/receivers/build.sh
//	KAUDIT_E2E=1 go test ./e2e -count=1 -v -timeout 45m
package e2e
