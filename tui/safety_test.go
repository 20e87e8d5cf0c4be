package tui

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/kaudit/kaudit/store"
)

// Payloads a client can put in audited fields, each a sequence a terminal
// would act on: clear screen and colours (CSI), window title (OSC 0/2),
// clipboard write (OSC 52), a device control string (DCS), their 8-bit C1
// forms, and a bidi override.
var hostile = []string{
	"\x1b[2J\x1b[31mred",
	"\x1b]0;pwned-title\x07",
	"\x1b]2;pwned-title\x1b\\",
	"\x1b]52;c;ZWNobyBwd25lZA==\x07",
	"\x1bP+q544e\x1b\\",
	"\u009b2J\u009d0;c1-title\u009c",
	"\u202eevil",
}

// sgr is exactly the styling lipgloss writes: CSI parameters then "m".
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func hostileStore(t *testing.T) *store.Store {
	t.Helper()
	var buf []byte
	var starts []int
	for i, p := range hostile {
		ev := map[string]any{
			"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
			"requestObject":            map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "body" + p}},
			"responseObject":           map[string]any{"kind": "Status", "message": "resp" + p},
			"auditID":                  "00000000-0000-4000-8000-00000000000" + string(rune('0'+i)),
			"stage":                    "ResponseComplete",
			"requestURI":               "/api/v1/namespaces/ns/pods/x" + p,
			"verb":                     "get" + p,
			"user":                     map[string]any{"username": "user" + p, "groups": []string{"g" + p}},
			"impersonatedUser":         map[string]any{"username": "imp" + p},
			"sourceIPs":                []string{"10.0.0.1"},
			"userAgent":                "kubectl" + p,
			"objectRef":                map[string]any{"resource": "pods" + p, "namespace": "ns" + p, "name": "name" + p, "apiVersion": "v1"},
			"responseStatus":           map[string]any{"code": 403, "message": "msg" + p},
			"requestReceivedTimestamp": "2026-01-15T09:00:00.000000Z",
			"stageTimestamp":           "2026-01-15T09:00:01.500000Z",
			"annotations": map[string]string{
				"authorization.k8s.io/decision":  "forbid",
				"authorization.k8s.io/reason":    "reason" + p,
				"apiserver.latency.k8s.io/etcd":  "1.2s",
				"apiserver.latency.k8s.io/total": "1.5s",
			},
		}
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes C0 controls; write the 8-bit ones raw, as
		// a hostile client's JSON may.
		starts = append(starts, len(buf))
		buf = append(buf, line...)
		buf = append(buf, '\n')
	}
	st := store.New()
	appendLines(t, st, buf, starts)
	if st.Len() != len(hostile) {
		t.Fatalf("stored %d of %d hostile events", st.Len(), len(hostile))
	}
	return st
}

// TestTerminalSafety renders every tab, the filter line and the detail
// page over hostile events and checks that no byte that could start or end
// a terminal sequence reaches View's output.
func TestTerminalSafety(t *testing.T) {
	st := hostileStore(t)
	check := func(where, out string) {
		t.Helper()
		for i, r := range out {
			bad := r == 0x1b || r == 0x07 || (r < 0x20 && r != '\n') || r == 0x7f ||
				(r >= 0x80 && r <= 0x9f) || r == 0x202e || r == utf8.RuneError
			if bad {
				t.Fatalf("%s: byte %q at %d reaches the screen:\n%q", where, r, i, out)
			}
		}
	}
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		m := started(t, st, size[0], size[1])
		for i, tab := range tabs[:tabDetections] {
			m = drive(t, m, toTab(i)...)
			check(tab.name, m.View())
		}
		m = drive(t, m, keys("1", "enter")...)
		if !m.over.paged() {
			t.Fatal("no detail page")
		}
		out := m.View()
		check("detail", out)
		// Scroll through the whole page.
		for range 20 {
			m = drive(t, m, tea.KeyMsg{Type: tea.KeyPgDown})
			check("detail (scrolled)", m.View())
		}
		m = drive(t, m, keys("esc")...)
		// A filter term echoing a payload, shown in the header.
		m = drive(t, m, keys("/")...)
		m = drive(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(`ua:"` + hostile[3] + `"`), Paste: true})
		check("filter bar", m.View())
		m = drive(t, m, keys("enter")...)
		check("filter line", m.View())
	}
	// With colour on, the only escapes are our own SGR styling.
	func() {
		lipgloss.SetColorProfile(termenv.ANSI256)
		defer lipgloss.SetColorProfile(termenv.Ascii)
		m := started(t, st, 120, 40)
		for i, tab := range tabs[:tabDetections] {
			m = drive(t, m, toTab(i)...)
			check(tab.name+" (colour)", sgr.ReplaceAllString(m.View(), ""))
		}
		m = drive(t, m, keys("1", "enter")...)
		if !sgr.MatchString(m.View()) {
			t.Error("colour profile on, yet the detail page has no styling")
		}
		check("detail (colour)", sgr.ReplaceAllString(m.View(), ""))
	}()

	// The skipped-input list (p) shows file names and messages from input.
	pm := New(Options{Store: st, Now: fixedNow, Problems: func() []string { return hostile }})
	pm = run(t, pm, pm.work.initCmd)
	pm = drive(t, pm, tea.WindowSizeMsg{Width: 120, Height: 40})
	pm = drive(t, pm, keys("p")...)
	check("problems", pm.View())
	if !strings.Contains(pm.View(), `\x1b]52;c;`) {
		t.Errorf("problem list not shown:\n%s", pm.View())
	}

	// The payloads were rendered, escaped: the page is not just empty.
	m := started(t, st, 200, 60)
	m = drive(t, m, keys("enter")...)
	var all strings.Builder
	for range 10 {
		all.WriteString(m.View())
		m = drive(t, m, tea.KeyMsg{Type: tea.KeyPgDown})
	}
	if !strings.Contains(all.String(), `\x1b[2J`) {
		t.Errorf("escaped payload not shown in the detail page:\n%s", all.String())
	}
}
