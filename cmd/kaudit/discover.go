package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// Finding the audit log the way an operator would, for watch with no path:
// the running kube-apiserver's --audit-log-path (its command line under
// /proc), else its static-pod manifest, else the usual places of kubeadm,
// k3s, RKE2 and the reference docs. The same for --audit-policy-file,
// which the terminal UI's P simulates.

// discovered is where the audit log (and policy) were found, and how.
type discovered struct {
	log, policy string
	how         string // said to the user: "the running kube-apiserver's --audit-log-path"
}

// knownLogs are the usual audit log paths, most common first.
var knownLogs = []string{
	defaultWatchPath,                              // the reference docs, kind
	"/var/log/kubernetes/audit/audit.log",         // kubeadm's audit guide
	"/var/log/kubernetes/audit.log",               // minikube, many guides
	"/var/lib/rancher/k3s/server/logs/audit.log",  // k3s
	"/var/lib/rancher/rke2/server/logs/audit.log", // RKE2
	"/var/log/kube-apiserver/audit.log",
}

// kubeadmManifest is the static-pod manifest of kubeadm's API server.
const kubeadmManifest = "etc/kubernetes/manifests/kube-apiserver.yaml"

// discoverAudit looks under root ("/" on a real host).
func discoverAudit(root string) discovered {
	if args := apiserverArgs(root); args != nil {
		if d := fromArgs(args); d.log != "" {
			d.how = "the running kube-apiserver's --audit-log-path"
			return d
		}
	}
	if data, err := os.ReadFile(filepath.Join(root, kubeadmManifest)); err == nil {
		if d := fromArgs(manifestArgs(data)); d.log != "" {
			d.how = "--audit-log-path in /" + kubeadmManifest
			return d
		}
	}
	for _, p := range knownLogs {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return discovered{log: p, how: "a usual location (no running kube-apiserver says otherwise)"}
		}
	}
	return discovered{log: defaultWatchPath, how: "the default (nothing found: waiting for it to appear)"}
}

// apiserverArgs is the command line of a running kube-apiserver, or nil.
func apiserverArgs(root string) []string {
	procs, _ := filepath.Glob(filepath.Join(root, "proc", "[0-9]*", "cmdline"))
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) == "kube-apiserver" || len(args) > 1 && filepath.Base(args[1]) == "kube-apiserver" {
			return args
		}
	}
	return nil
}

// manifestArgs are the "- --flag=value" items of a static-pod manifest
// (the API server's only container: no YAML library needed for a list
// of flags).
func manifestArgs(data []byte) []string {
	var args []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(l, "- "); ok && strings.HasPrefix(strings.Trim(v, `"'`), "--") {
			args = append(args, strings.Trim(v, `"'`))
		}
	}
	return args
}

// fromArgs reads --audit-log-path and --audit-policy-file ("--f=v" or
// "--f v"); a log path of "-" (standard output) is not a file to follow.
func fromArgs(args []string) discovered {
	var d discovered
	for i, a := range args {
		for flag, dst := range map[string]*string{"--audit-log-path": &d.log, "--audit-policy-file": &d.policy} {
			switch {
			case strings.HasPrefix(a, flag+"="):
				*dst = strings.TrimPrefix(a, flag+"=")
			case a == flag && i+1 < len(args):
				*dst = args[i+1]
			}
		}
	}
	if d.log == "-" {
		d.log = ""
	}
	return d
}
