package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/kaudit/kaudit/store"
)

// detailMsg carries a rendered detail page, read in a Cmd because reading
// an event's bytes back may decompress a spool frame or hit the disk.
type detailMsg struct {
	id   store.ID
	body string
}

// loadDetail renders event id: its stages, latency breakdown, denial reason
// and the original JSON, pretty-printed. Every event-derived string goes
// through printable, line by line.
func loadDetail(st *store.Store, id store.ID, tf timeFormat) tea.Cmd {
	return func() tea.Msg {
		return detailMsg{id: id, body: renderDetail(st, id, tf)}
	}
}

func renderDetail(st *store.Store, id store.ID, tf timeFormat) string {
	e := st.Entry(id)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s  code %s  latency %s\n", printable(userName(&e)), printable(e.Verb),
		printable(objectName(&e)), codeText(e.Code), formatDuration(e.Latency))
	if e.AuditID != "" {
		fmt.Fprintf(&b, "auditID %s\n", printable(e.AuditID))
	}
	if e.Denied {
		kind := "refused (403, not by the authorizer)"
		if e.Decision == "forbid" {
			kind = "denied by the authorizer"
		}
		reason := e.Reason
		if reason == "" {
			reason = e.Message
		}
		fmt.Fprintf(&b, "\n✗ %s: %s\n", kind, printable(reason))
	}

	b.WriteString("\nStages\n")
	for _, sid := range st.Stages(id) {
		s := st.Entry(sid)
		cur := " "
		if sid == id {
			cur = ">"
		}
		fmt.Fprintf(&b, " %s %-17s %s  code %s\n", cur, s.Stage, tf.format(s.Time), codeText(s.Code))
	}

	if len(e.Phases) > 0 {
		b.WriteString("\nLatency breakdown (apiserver.latency.k8s.io)\n")
		b.WriteString(phaseChart(&e, 30))
	}

	b.WriteString("\nEvent\n")
	raw, err := st.Raw(id, nil)
	if err != nil {
		fmt.Fprintf(&b, "(original bytes unavailable: %v)\n", err)
		return b.String()
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(raw)
	}
	n := 0
	for line := range strings.SplitSeq(pretty.String(), "\n") {
		line = printable(line)
		if n++; n <= colourLines {
			line = colourJSON(line)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// phaseChart draws one bar per phase, scaled to the longest, so where the
// time went is visible at a glance.
func phaseChart(e *store.Entry, width int) string {
	var longest time.Duration
	nameW := 0
	for _, p := range e.Phases {
		longest = max(longest, p.Duration)
		nameW = max(nameW, len(printable(p.Name)))
	}
	var b strings.Builder
	for _, p := range e.Phases {
		n := 0
		if longest > 0 {
			n = int(int64(width) * int64(p.Duration) / int64(longest))
		}
		if n == 0 && p.Duration > 0 {
			n = 1
		}
		fmt.Fprintf(&b, "  %-*s %s%s %s\n", nameW, printable(p.Name), strings.Repeat("█", n), strings.Repeat(" ", width-n), formatDuration(p.Duration))
	}
	return b.String()
}

// detailView is the scrollable page of one event (UI goroutine only).
type detailView struct {
	id store.ID
	vp viewport.Model
}

func newDetailView(id store.ID, body string, w, h int) detailView {
	vp := viewport.New(w, h)
	vp.SetContent(body)
	return detailView{id: id, vp: vp}
}

// SetSize resizes the page.
func (d *detailView) SetSize(w, h int) { d.vp.Width, d.vp.Height = w, h }

// Update scrolls (the viewport's own KeyMap: j/k, pgup/pgdn, …).
func (d detailView) Update(msg tea.Msg) (detailView, tea.Cmd) {
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return d, cmd
}

// View is the visible part of the page.
func (d detailView) View() string { return d.vp.View() }

// colourLines bounds syntax colouring: a megabyte request body stays
// readable, just plain past this many lines.
const colourLines = 2000

var (
	styleKey    = lipgloss.NewStyle().Foreground(lipgloss.Color("12"))
	styleString = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	styleLit    = lipgloss.NewStyle().Foreground(lipgloss.Color("13"))
)

// colourJSON colours one line of indented JSON: keys, strings, and other
// literals. It runs on text printable has already made safe, and only adds
// styling around whole tokens.
func colourJSON(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
			tok := line[i:j]
			if strings.HasPrefix(line[j:], ":") {
				b.WriteString(styleKey.Render(tok))
			} else {
				b.WriteString(styleString.Render(tok))
			}
			i = j
		case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
			j := i
			for j < len(line) && strings.IndexByte(",]} ", line[j]) < 0 {
				j++
			}
			b.WriteString(styleLit.Render(line[i:j]))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
