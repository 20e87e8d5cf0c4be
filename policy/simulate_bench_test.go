package policy

import (
	"testing"
)

// BenchmarkSimulate: evaluating the requests of a real log (847 requests,
// 1739 events) against the fixed Datadog policy; the log is read once.
func BenchmarkSimulate(b *testing.B) {
	sim, _ := replay(b, "testdata/realcluster/allstages-audit.log.gz")
	p := loadPolicy(b, "policy-datadog-fixed.yaml")
	for b.Loop() {
		sim.Run(p)
	}
	b.ReportMetric(float64(b.N*sim.Requests())/b.Elapsed().Seconds(), "requests/s")
}
