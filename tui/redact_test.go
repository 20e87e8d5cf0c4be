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

// X on an event's page asks, a second X shows its secrets; another key in
// between drops the question.
func TestDetailShowSecretsKey(t *testing.T) {
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
	m := started(t, st, 200, 60)
	m = drive(t, m, keys("enter")...)
	all := func() string { return ansi.Strip(m.over.page.vp.View()) }
	if m.over.pane != paneEvent || !strings.Contains(m.View(), "auditID a5") {
		t.Fatalf("event page not open:\n%s", m.View())
	}
	shown := func() bool { return strings.Contains(fullPage(m), "review-me") }
	if shown() {
		t.Fatal("secret shown before X")
	}
	m = drive(t, m, keys("X", "j")...) // j drops the question
	if shown() || m.over.confirm || strings.Contains(m.View(), "press X again") {
		t.Fatal("X then another key: secrets shown or question left open")
	}
	m = drive(t, m, keys("X")...)
	if shown() || !strings.Contains(m.View(), "press X again") {
		t.Fatalf("first X: no question or already shown:\n%s", m.View())
	}
	m = drive(t, m, keys("X")...)
	if !shown() {
		t.Fatalf("X X did not show the secrets:\n%s", all())
	}
	m = drive(t, m, keys("esc", "enter")...)
	if shown() {
		t.Error("secrets still shown after reopening the event")
	}
}

func fullPage(m Model) string {
	vp := m.over.page.vp
	vp.Height = 100000
	return ansi.Strip(vp.View())
}
