package forward

import (
	"bytes"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/redact"
)

// Forwarded records carry the redacted event; their id is the original
// line's, so it does not change with --show-secrets.
func TestRecordsRedact(t *testing.T) {
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a5","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"tokenreviews"},"requestObject":{"kind":"TokenReview","spec":{"token":"review-me"}},"stageTimestamp":"2026-01-15T09:00:04Z"}`)
	evs, err := audit.Decode(line, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Cluster: "c", Host: "h"}
	recs := id.Records(evs, time.Now())
	if bytes.Contains(recs[0].Event.Raw, []byte("review-me")) || !bytes.Contains(recs[0].Event.Raw, []byte("<redacted sha256:")) {
		t.Errorf("forwarded: %s", recs[0].Event.Raw)
	}
	redact.SetShowSecrets(true)
	defer redact.SetShowSecrets(false)
	shown := id.Records(evs, time.Now())
	if !bytes.Contains(shown[0].Event.Raw, []byte("review-me")) || shown[0].ID != recs[0].ID {
		t.Errorf("--show-secrets: %s, id %s vs %s", shown[0].Event.Raw, shown[0].ID, recs[0].ID)
	}
}
