package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// detailMsg carries a rendered detail page, read in a Cmd because reading
// an event's bytes back may decompress a spool frame or hit the disk.
type detailMsg struct {
	ref   eventRef
	title string
	body  string
}

// loadDetail renders event ref: its stages, latency breakdown, denial
// reason and the original JSON, pretty-printed. Every event-derived string
// goes through printable, line by line. An event no longer stored is said
// to be gone (see rebase.go: never another event's page).
func loadDetail(st *store.Store, ref eventRef, tf timeFormat) tea.Cmd {
	return loadPage(st, ref, tf, false)
}

// goneTitle and goneText are the page of an event no longer stored.
const (
	goneTitle = "event gone"
	goneText  = "This event is no longer stored: retention dropped it (esc to go back).\n"
)

// loadPage is loadDetail, with the event's secrets shown when show is set.
func loadPage(st *store.Store, ref eventRef, tf timeFormat, show bool) tea.Cmd {
	return func() tea.Msg {
		msg, ok := readEvent(st, ref.id, ref.base, func(id store.ID) detailMsg {
			e := st.Entry(id)
			return detailMsg{ref: ref, title: detailTitle(&e), body: renderDetailSecrets(st, id, tf, show)}
		})
		if !ok {
			return detailMsg{ref: ref, title: goneTitle, body: goneText}
		}
		return msg
	}
}

func renderDetail(st *store.Store, id store.ID, tf timeFormat) string {
	return renderDetailSecrets(st, id, tf, false)
}

// renderDetailSecrets is renderDetail; show reveals the event's secrets
// (the X key, confirmed), which are otherwise redacted unless the process
// was started with --show-secrets.
func renderDetailSecrets(st *store.Store, id store.ID, tf timeFormat, show bool) string {
	e := st.Entry(id)
	var b strings.Builder
	fmt.Fprintf(&b, "by %s  at %s  code %s  latency %s\n", printable(orDash(userName(&e))), tf.format(e.Time),
		codeText(e.Code), formatDuration(e.Latency))
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
		if u := views.Unattributed(&e); u > 0 {
			e.Phases = append(slices.Clone(e.Phases), audit.Phase{Name: "unattributed", Duration: u})
		}
		b.WriteString(phaseChart(&e, 30))
	}

	raw, err := st.Raw(id, nil)
	if err != nil {
		fmt.Fprintf(&b, "\nEvent\n(original bytes unavailable: %v)\n", err)
		return b.String()
	}
	if !show {
		raw = redact.Output(raw)
	}
	rest, bodies := splitBodies(raw)
	budget := colourLines
	if bodies[0].raw == nil && bodies[1].raw == nil {
		fmt.Fprintf(&b, "\nRequest and response bodies: none (level %s)\n", e.Level)
		bodies = nil
	}
	for _, body := range bodies {
		fmt.Fprintf(&b, "\n%s (%s)\n", body.title, body.key)
		if body.raw == nil {
			fmt.Fprintf(&b, "  none (level %s)\n", e.Level)
			continue
		}
		writeJSON(&b, body.raw, &budget)
	}
	b.WriteString("\nEvent")
	if len(rest) != len(raw) {
		b.WriteString(" (bodies above)")
	}
	b.WriteByte('\n')
	writeJSON(&b, rest, &budget)
	return b.String()
}

// writeJSON writes raw pretty-printed (as it is if it is not JSON), every
// line made printable, and syntax-coloured while *budget lines last.
func writeJSON(b *strings.Builder, raw []byte, budget *int) {
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(raw)
	}
	for line := range strings.SplitSeq(strings.TrimRight(pretty.String(), "\n"), "\n") {
		line = printable(line)
		if *budget > 0 {
			*budget--
			line = colourJSON(line)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// body is a request or response body cut out of an event for its own
// section of the detail page.
type body struct {
	title, key string
	raw        json.RawMessage // nil when the event has none
}

// splitBodies cuts requestObject and responseObject out of an event,
// keeping the order of the other fields. An event it cannot parse is
// returned whole, with no bodies.
func splitBodies(raw []byte) (rest []byte, bodies []body) {
	none := func() []body {
		return []body{{title: "Request body", key: "requestObject"}, {title: "Response body", key: "responseObject"}}
	}
	bodies = none()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return raw, bodies
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for dec.More() {
		t, err := dec.Token()
		k, ok := t.(string)
		var v json.RawMessage
		if err != nil || !ok || dec.Decode(&v) != nil {
			return raw, none()
		}
		switch k {
		case "requestObject":
			bodies[0].raw = v
			continue
		case "responseObject":
			bodies[1].raw = v
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), bodies
}

// phaseChart draws one bar per phase, scaled to the longest, so where the
// time went is visible at a glance.
func phaseChart(e *store.Entry, width int) string {
	var longest time.Duration
	nameW := 0
	for _, p := range e.Phases {
		longest = max(longest, p.Duration)
		nameW = max(nameW, ansi.StringWidth(printable(p.Name)))
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
		name := printable(p.Name)
		name += strings.Repeat(" ", nameW-ansi.StringWidth(name)) // in cells: fmt pads runes
		fmt.Fprintf(&b, "  %s %s%s %s\n", name, strings.Repeat("█", n), strings.Repeat(" ", width-n), formatDuration(p.Duration))
	}
	return b.String()
}

// detailTitle says what an event was: verb, resource[/subresource] and
// namespace/name, or the request path.
func detailTitle(e *store.Entry) string {
	t := orDash(e.Verb) + " " + orDash(views.ResourceKey(e))
	if o := objectName(e); o != "" && e.Object.Resource != "" {
		t += " " + o
	}
	return printable(t)
}

// orDash writes an empty value as "-", as the CLI does.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// detailView is a scrollable page of text: an event, or a report pane
// (UI goroutine only). Long lines wrap, or (W) are cut and scroll
// sideways; a title line stays above the page.
type detailView struct {
	vp            viewport.Model
	title         string
	body          string
	wrap          bool
	width, height int // the whole pane's, title included
}

func newDetailView(body string, w, h int) detailView {
	d := detailView{vp: viewport.New(w, h), body: body, wrap: true}
	d.vp.SetHorizontalStep(8)
	d.SetSize(w, h)
	return d
}

func (d *detailView) setContent() {
	if d.wrap && d.width > 0 {
		d.vp.SetContent(ansi.Wrap(d.body, d.width, ""))
		d.vp.SetXOffset(0)
		return
	}
	d.vp.SetContent(d.body)
}

// SetTitle shows a line above the page.
func (d *detailView) SetTitle(s string) {
	d.title = s
	d.SetSize(d.width, d.height)
}

// SetWrap chooses between wrapped lines and sideways scrolling.
func (d *detailView) SetWrap(on bool) {
	d.wrap = on
	d.setContent()
}

// SetSize resizes the page.
func (d *detailView) SetSize(w, h int) {
	d.width, d.height = w, h
	if d.title != "" {
		h--
	}
	d.vp.Width, d.vp.Height = w, max(1, h)
	d.setContent()
}

// Update scrolls: g/G (home/end) to the top and the end, else the
// viewport's own KeyMap (j/k, pgup/pgdn, …).
func (d detailView) Update(msg tea.Msg) (detailView, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		km := DefaultTableKeyMap()
		switch {
		case key.Matches(k, km.Top):
			d.vp.GotoTop()
			return d, nil
		case key.Matches(k, km.Bottom):
			d.vp.GotoBottom()
			return d, nil
		}
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return d, cmd
}

// View is the visible part of the page, under its title.
func (d detailView) View() string {
	if d.title == "" {
		return d.vp.View()
	}
	return styleHeader.Render(d.title) + "\n" + d.vp.View()
}

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
