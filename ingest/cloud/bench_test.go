package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/internal/testcpu"
)

// sampleEvent is a typical Metadata-level event (about 900 bytes).
func sampleEvent(i int) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"7a40bd92-240e-4cbc-aa74-%012d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/configmaps/coredns","verb":"get","user":{"username":"system:serviceaccount:kube-system:generic-garbage-collector","uid":"5b1f8f2e-7e0a-4d8c-9d7e-1f2b3c4d5e6f","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]},"sourceIPs":["172.31.9.219"],"userAgent":"kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:generic-garbage-collector","objectRef":{"resource":"configmaps","namespace":"kube-system","name":"coredns","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-05-05T16:16:38.370618Z","stageTimestamp":"2026-05-05T16:16:38.373077Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:controller:generic-garbage-collector\""}}`, i)
}

func quoted(s string) string { b, _ := json.Marshal(s); return string(b) }

// benchInputs are envelopes holding the event as an escaped string.
func benchInputs() map[string][]byte {
	var aks, cw, sub bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&aks, `{"category":"kube-audit","resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{"log":%s,"stream":"stdout","pod":"kube-apiserver-123"}}`+"\n", quoted(sampleEvent(i)))
	}
	for i := range 20 {
		fmt.Fprintf(&sub, `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/eks/demo/cluster","logStream":"kube-apiserver-audit-1","subscriptionFilters":["k"],"logEvents":[`)
		for j := range 100 {
			if j > 0 {
				sub.WriteByte(',')
			}
			fmt.Fprintf(&sub, `{"id":"%d","timestamp":1669680544380,"message":%s}`, j, quoted(sampleEvent(i*100+j)))
		}
		sub.WriteString("]}\n")
	}
	cw.WriteString(`{"events":[`)
	for i := range 2000 {
		if i > 0 {
			cw.WriteByte(',')
		}
		fmt.Fprintf(&cw, `{"logStreamName":"kube-apiserver-audit-1","timestamp":1669680544380,"message":%s,"ingestionTime":1669680544880,"eventId":"%d"}`, quoted(sampleEvent(i)), i)
	}
	cw.WriteString("]}\n")
	return map[string][]byte{"aks-lines": aks.Bytes(), "cw-subscription": sub.Bytes(), "cw-filter-log-events": cw.Bytes(), "gke-lines": gkeLines(2000)}
}

// gkeLines is n LogEntries as gcloud writes them, one per line, from the
// generator's events (Metadata and RequestResponse levels mixed).
func gkeLines(n int) []byte {
	g := gen.New(gen.Config{Seed: 3})
	events := make([][]byte, n)
	for i := range events {
		events[i] = g.Next(nil)
	}
	var b bytes.Buffer
	if err := gen.WriteEnvelope(&b, gen.EnvelopeGKE, "demo", events); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func BenchmarkDecode(b *testing.B) {
	for name, data := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := testcpu.Time()
			for b.Loop() {
				if res := Decode(data); len(res.Records) != 2000 {
					b.Fatalf("%d records", len(res.Records))
				}
			}
			reportPerCPU(b, int64(len(data)), testcpu.Time()-cpu0)
		})
	}
}

// reportPerCPU reports MB decoded per CPU-second ("MB/cpu-s").
func reportPerCPU(b *testing.B, size int64, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkStream is BenchmarkDecode through a Stream (a window of the
// input at a time, as replay reads exports).
func BenchmarkStream(b *testing.B) {
	buf := make([]byte, 1<<20)
	for name, data := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := testcpu.Time()
			for b.Loop() {
				s := NewStream(bytes.NewReader(data))
				for {
					if _, err := s.Read(buf); err != nil {
						break
					}
				}
				if c := s.Counts(); c != [NumKinds]int{} {
					b.Fatalf("problems %v", c)
				}
			}
			reportPerCPU(b, int64(len(data)), testcpu.Time()-cpu0)
		})
	}
}
