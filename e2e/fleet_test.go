package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
)

// TestE2EVlogsFleet is the fleet view end to end: three kaudit watch
// --forward agents stand in for three API servers of two clusters — two
// generator logs written live through lumberjack (1 MB files, so they
// rotate) for cluster east, and one real kube-apiserver running the
// workload for cluster west — into VictoriaLogs in cluster mode (two
// storage nodes behind an insert/select node). Then replay vlogs://
// --since 1h gives the Users, Denials and Latency tables of replaying the
// original files merged, each record carries its agent's cluster, host
// and source, and the identity selects what it should.
func TestE2EVlogsFleet(t *testing.T) {
	kauditBin(t)
	rc := realcluster(t)
	portA, portB, front := freePort(t), freePort(t), freePort(t)
	vlNode(t, portA, "-storageDataPath="+t.TempDir())
	vlNode(t, portB, "-storageDataPath="+t.TempDir())
	vlNode(t, front, "-storageDataPath="+t.TempDir(), "-storageNode=127.0.0.1:"+strconv.Itoa(portA)+",127.0.0.1:"+strconv.Itoa(portB))
	addr := "127.0.0.1:" + strconv.Itoa(front)
	otlp := "otlp+http://" + addr + "/insert/opentelemetry/v1/logs"

	api := newAPIServer(t, rc, append(portsEnv(t), "AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_MAXBACKUP=100", "AUDIT_LOG_COMPRESS=0")...)
	startAPIServers(t, api)
	type agent struct{ cluster, host, dir string }
	agents := []agent{{"east", "cp-a", t.TempDir()}, {"east", "cp-b", t.TempDir()}, {"west", "cp-real", api.dir}}
	for _, a := range agents {
		background(t, nil, "watch", "-o", "jsonl", "--history", "all", "--state-dir", t.TempDir(),
			"--cluster-name", a.cluster, "--host-name", a.host, "--forward", otlp, a.dir)
	}

	// The workload on the real API server while the generators write.
	work := api.script("workload.sh", api.dir, "1")
	workOut := &strings.Builder{}
	work.Stdout, work.Stderr = workOut, workOut
	if err := work.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, a := range agents[:2] {
		wg.Go(func() { writeLive(t, a.dir, uint64(60+i), 2500) })
	}
	wg.Wait()
	if err := work.Wait(); err != nil {
		t.Logf("workload.sh: %v (its outcomes are in workload.log)", err)
	}
	api.run(t, "down.sh", api.dir) // the API server flushes its audit log: the files are final

	files := map[string][]string{}
	for _, a := range agents {
		paths, _ := filepath.Glob(filepath.Join(a.dir, "audit*.log*"))
		files[a.host] = paths
	}
	if len(files["cp-a"]) < 2 || len(files["cp-real"]) < 1 {
		t.Fatalf("files: %v (the generator logs should have rotated)", files)
	}
	all := append(append(append([]string(nil), files["cp-a"]...), files["cp-b"]...), files["cp-real"]...)
	want := map[string]string{}
	for _, view := range []string{"users", "denials", "latency"} {
		_, want[view], _ = run(t, append([]string{"replay", "-o", "json", "--view", view}, all...)...)
	}
	src := "vlogs://" + addr
	var last string
	same := func() bool {
		for _, view := range []string{"users", "denials", "latency"} {
			code, got, errOut := kaudit(t, "replay", "-o", "json", "--view", view, "--since", "1h", src)
			if code != exitOK || rows(got) != rows(want[view]) {
				last = fmt.Sprintf("%s: exit %d: %.300s\n%.400s\nwant %.400s", view, code, errOut, got, want[view])
				return false
			}
		}
		return true
	}
	defer func() {
		if t.Failed() {
			t.Log(last)
		}
	}()
	waitUntil(t, "the fleet's tables to equal the original files merged", func() bool {
		ok := same()
		if !ok {
			time.Sleep(time.Second)
		}
		return ok
	})

	// Identity: each record carries its agent's cluster, host and source.
	count := map[string]int{}
	total := 0
	for _, a := range agents {
		n := 0
		for _, p := range files[a.host] {
			n += len(readKeys(t, p))
		}
		count[a.cluster+" "+a.host+" "+a.host] = n
		total += n
	}
	got := map[string]int{}
	for _, r := range vlQuery(t, "http://"+addr, `* | stats by (k8s.cluster.name, host.name, kaudit.source) count() n`) {
		n, _ := strconv.Atoi(r["n"])
		got[r["k8s.cluster.name"]+" "+r["host.name"]+" "+r["kaudit.source"]] = n
	}
	for k, n := range count {
		if got[k] < n { // at least once: a resend may add a record
			t.Errorf("cluster/host/source %q: %d records, the agent's files hold %d events (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != len(count) {
		t.Errorf("identities in VictoriaLogs %v, want %v", got, count)
	}
	// Read back, the identity selects: a cluster, a host, a source.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--vlogs-cluster", "east"}, count["east cp-a cp-a"] + count["east cp-b cp-b"]},
		{[]string{"--vlogs-host", "cp-real"}, count["west cp-real cp-real"]},
		{[]string{"-f", "source:cp-b"}, count["east cp-b cp-b"]},
		{[]string{"-f", `source == "cp-a"`}, count["east cp-a cp-a"]},
	} {
		_, out, _ := run(t, append(append([]string{"replay", "-o", "jsonl", "--since", "1h"}, tc.args...), src)...)
		if n := strings.Count(out, "\n"); n != tc.want {
			t.Errorf("%v: %d events, want %d", tc.args, n, tc.want)
		}
	}
	t.Logf("fleet: %d events from 3 agents (%d+%d generated with rotation, %d from a real kube-apiserver, %d files) read back through a 2-storage-node VictoriaLogs cluster: users, denials and latency equal the files merged",
		total, count["east cp-a cp-a"], count["east cp-b cp-b"], count["west cp-real cp-real"], len(all))
}

// writeLive writes n generated events (stamped from a few minutes ago)
// into dir/audit.log through lumberjack at about 1000 events/s: 1 MB
// files, so the log rotates while its agent follows it.
func writeLive(t *testing.T, dir string, seed uint64, n int) {
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1}
	defer lj.Close()
	g := gen.New(gen.Config{Seed: seed, Start: time.Now().Add(-5 * time.Minute)})
	var line []byte
	for i := range n {
		line = g.Next(line[:0])
		if _, err := lj.Write(line); err != nil {
			t.Error(err)
			return
		}
		if i%100 == 99 {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestE2EVlogsDatadog: one log forwarded over OTLP, another through
// kaudit's Datadog sink pointed at VictoriaLogs' Datadog-compatible
// intake, which stores it in another shape (ddsource, hostname,
// kube_cluster_name from ddtags, milliseconds). replay vlogs:// reads
// both back: the tables of the two files merged, the cluster selection
// and a filter (pushed down for the OTLP records, local for the others).
func TestE2EVlogsDatadog(t *testing.T) {
	kauditBin(t)
	base := victoriaLogs(t, freePort(t))
	addr := strings.TrimPrefix(base, "http://")
	t.Setenv("DD_API_KEY", "unused-by-victorialogs")
	dir := t.TempDir()
	var paths []string
	for i, sink := range []string{"otlp+http://" + addr + "/insert/opentelemetry/v1/logs", "datadog://datadoghq.com"} {
		p := filepath.Join(dir, fmt.Sprintf("audit-%d.log", i))
		g := gen.New(gen.Config{Seed: uint64(70 + i)})
		var data, line []byte
		for range 2000 {
			line = g.Next(line[:0])
			data = append(data, line...)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		run(t, "replay", "-o", "table", "--view", "verbs", "--state-dir", t.TempDir(), "--cluster-name", []string{"otlp-c", "dd-c"}[i],
			"--forward", sink, "--forward-endpoint", base+"/insert/datadog/api/v2/logs", p)
	}
	waitUntil(t, "VictoriaLogs to hold both logs", func() bool {
		r := vlQuery(t, base, `* | stats count() n`)
		return len(r) == 1 && r[0]["n"] == "4000"
	})
	if r := vlQuery(t, base, `ddsource:="kubernetes.audit" kube_cluster_name:="dd-c" | stats count() n`); len(r) != 1 || r[0]["n"] != "2000" {
		t.Fatalf("Datadog-shaped records: %v", r)
	}
	src := "vlogs://" + addr
	for _, view := range []string{"users", "denials", "latency"} {
		_, want, _ := run(t, append([]string{"replay", "-o", "json", "--view", view}, paths...)...)
		_, got, errOut := run(t, "replay", "-o", "json", "--view", view, src)
		if rows(got) != rows(want) {
			t.Fatalf("view %s over both shapes differs from the files':\n%.600s\nwant\n%.600s\nstderr %s", view, got, want, errOut)
		}
	}
	count := func(args ...string) int {
		_, out, _ := run(t, append([]string{"replay", "-o", "jsonl"}, args...)...)
		return strings.Count(out, "\n")
	}
	if n := count("--vlogs-cluster", "dd-c", src); n != 2000 {
		t.Errorf("--vlogs-cluster dd-c: %d events, want 2000", n)
	}
	const f = "verb:delete,patch ns:kube-system"
	if got, want := count("-f", f, src), count(append([]string{"-f", f}, paths...)...); got != want || want == 0 {
		t.Errorf("%s: %d events read back, the files give %d", f, got, want)
	}
}
