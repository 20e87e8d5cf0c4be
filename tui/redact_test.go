package tui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// The detail page shows a TokenReview's token redacted, unless the user
// asked for secrets.
func TestDetailRedactsSecrets(t *testing.T) {
	data, err := os.ReadFile("../redact/testdata/secrets.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte(`"auditID":"a5"`)) {
			line = l
		}
	}
	st := store.New()
	appendLines(t, st, line, []int{0})
	page := ansi.Strip(renderDetail(st, 0, timeFormat{}))
	if strings.Contains(page, "review-me") || !strings.Contains(page, "<redacted sha256:") {
		t.Errorf("token shown:\n%s", page)
	}
	redact.SetShowSecrets(true)
	defer redact.SetShowSecrets(false)
	if page := renderDetail(st, 0, timeFormat{}); !strings.Contains(page, "review-me") {
		t.Errorf("--show-secrets: token hidden")
	}
}
