package tui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/store"
)

// The detail page shows the request and response bodies in sections of
// their own, pretty-printed; the event below leaves them out, keeping the
// order of its other fields.
func TestDetailBodies(t *testing.T) {
	data, err := os.ReadFile("../testdata/public/khi-oss-kind-requestresponse.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	st := store.New()
	appendLines(t, st, line, []int{0})
	page := ansi.Strip(renderDetail(st, 0, timeFormat{}))
	req := strings.Index(page, "\nRequest body (requestObject)\n{\n  \"kind\": \"Lease\",\n")
	resp := strings.Index(page, "\nResponse body (responseObject)\n{\n  \"kind\": \"Lease\",\n")
	ev := strings.Index(page, "\nEvent (bodies above)\n{\n  \"kind\": \"Event\",\n")
	if req < 0 || resp < req || ev < resp {
		t.Fatalf("sections missing or out of order (%d %d %d):\n%s", req, resp, ev, page)
	}
	if strings.Contains(page[ev:], `"requestObject"`) || strings.Contains(page[ev:], `"responseObject"`) {
		t.Error("the event section repeats the bodies")
	}
	if !strings.Contains(page[resp:ev], `"resourceVersion": "5812"`) || !strings.Contains(page[req:resp], `"resourceVersion": "5808"`) {
		t.Error("request and response bodies mixed up")
	}
	if i, j := strings.Index(page[ev:], `"responseStatus"`), strings.Index(page[ev:], `"requestReceivedTimestamp"`); i < 0 || j < i {
		t.Error("the event's field order changed")
	}
	m := started(t, st, 120, 40)
	m = drive(t, m, keys("enter")...)
	golden(t, "detail_bodies_120x40.golden", m.View())
	// Scrollable: the page is longer than the screen, and G reaches its end.
	m = drive(t, m, keys("G")...)
	if !strings.Contains(m.View(), `"job"`) {
		t.Errorf("G did not scroll to the end:\n%s", m.View())
	}
}
