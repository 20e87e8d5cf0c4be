package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestE2EForwardDetections: replay --detect --forward to the real
// OpenTelemetry Collector. The records it wrote carry kaudit.detections,
// and their (rule, auditID) pairs are exactly kaudit detect's hits.
func TestE2EForwardDetections(t *testing.T) {
	kauditBin(t) // skips without KAUDIT_E2E=1
	col := newCollector(t, freePort(t))
	const path = "../detect/testdata/handmade/events.jsonl"
	code, _, errOut := kaudit(t, "replay", "-o", "table", "--view", "codes", "--detect", "--forward", col.url(), path)
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	col.stop()
	var got []string
	recs := col.collected()
	for _, r := range recs {
		var ev struct{ AuditID string }
		if err := json.Unmarshal([]byte(r.body), &ev); err != nil {
			t.Fatal(err)
		}
		for _, d := range r.dets {
			got = append(got, d+" "+ev.AuditID)
		}
	}
	code, out, errOut := kaudit(t, "detect", "-o", "jsonl", path)
	if code != exitOK {
		t.Fatalf("detect exit %d: %s", code, errOut)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h struct{ Rule, AuditID string }
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatal(err)
		}
		want = append(want, h.Rule+" "+h.AuditID)
	}
	slices.Sort(got)
	slices.Sort(want)
	t.Logf("%d records at the collector, %d of them labelled with %d rule hits", len(recs), countLabelled(recs), len(got))
	if len(want) < 10 || !slices.Equal(got, want) {
		t.Errorf("kaudit.detections at the collector differ from kaudit detect (%d vs %d):\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

func countLabelled(recs []received) int {
	n := 0
	for _, r := range recs {
		if len(r.dets) > 0 {
			n++
		}
	}
	return n
}
