package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/kaudit/kaudit/views"
)

// Layout: six header lines (status, sparkline, its markers, time axis,
// tabs, filter), the body, one footer line. The filter bar, when open,
// takes the filter line and, with an error, two more.
const headerLines, footerLines = 6, 1

func (m Model) bodyHeight() int {
	extra := 0
	if n := m.bar.lines(); n > 1 {
		extra = n - 1
	}
	return max(1, m.height-headerLines-footerLines-extra)
}

func (m Model) tableHeight() int { return m.bodyHeight() }

// View draws the screen. Its cost is the visible rows', not the store's.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.statusLine())
	b.WriteByte('\n')
	spark, marks := m.sparkline()
	b.WriteString(spark)
	b.WriteByte('\n')
	b.WriteString(marks)
	b.WriteByte('\n')
	b.WriteString(axis(m.res.span, min(len(m.res.spark.counts), m.sparkWidth())))
	b.WriteByte('\n')
	b.WriteString(m.tabLine())
	b.WriteByte('\n')
	switch {
	case m.bar.Focused():
		b.WriteString(m.bar.View())
	case m.find.input.Focused():
		b.WriteString(m.find.input.View())
	default:
		b.WriteString(m.filterLine())
	}
	b.WriteByte('\n')
	b.WriteString(m.body())
	b.WriteByte('\n')
	b.WriteString(m.footer())
	return clip(b.String(), m.width, m.height)
}

func (m Model) body() string {
	h := m.bodyHeight()
	var s string
	switch t := m.tables[m.tab]; {
	case m.over.pane == paneHelp:
		hm := m.help
		hm.ShowAll = true
		s = hm.View(m.keys)
	case m.over.pane == paneLoading:
		s = "loading event…"
	case m.over.pane == paneHistory && m.over.hist.help:
		hm := m.help
		hm.ShowAll = true
		s = hm.View(m.over.hist.keys)
	case m.over.pane == paneHistory:
		s = m.over.hist.View()
	case m.over.paged():
		s = m.over.page.View()
	case t.rows == nil:
		s = styleDim.Render("  computing…")
	case t.Len() == 0:
		s = styleDim.Render("  no requests match")
	default:
		s = t.View()
	}
	// Pad to the body's height so the footer stays at the bottom.
	lines := strings.Count(s, "\n") + 1
	if lines < h {
		s += strings.Repeat("\n", h-lines)
	}
	return s
}

// statusLine: source, load or live state, events/requests, rate,
// problems, time range — most urgent first, as a narrow screen cuts the end.
func (m Model) statusLine() string {
	p := m.hdr.prog
	parts := []string{"kaudit"}
	if p.Alert != "" {
		parts = append(parts, "⚠ "+printable(p.Alert))
	}
	src := -1 // the source's part, shortened when the line is too long
	if p.Source != "" {
		src = len(parts)
		parts = append(parts, printable(p.Source))
	}
	switch {
	case p.Loading:
		parts = append(parts, loadingText(p, m.hdr.byteRate))
	case m.paused:
		parts = append(parts, "PAUSED")
	case p.Live && m.follow && m.atNewest():
		parts = append(parts, "LIVE·follow")
	case p.Live:
		parts = append(parts, "LIVE")
	}
	// As of the last apply: the screen changes when data is applied, not
	// whenever the store grows.
	parts = append(parts, fmt.Sprintf("%d events/%d req", m.res.events, m.res.requests))
	if m.hdr.rate > 0 {
		parts = append(parts, fmt.Sprintf("%.0f ev/s", m.hdr.rate))
	}
	if p.Problems > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", p.Problems))
	}
	if m.res.evicted > 0 {
		parts = append(parts, fmt.Sprintf("%d evicted", m.res.evicted))
	}
	if r := m.rangeText(); r != "" {
		parts = append(parts, r)
	} else if !m.hdr.first.IsZero() {
		tf := m.timeFormat()
		parts = append(parts, tf.format(m.hdr.first)+"–"+tf.format(m.hdr.last))
	}
	line := strings.Join(parts, " · ")
	if over := ansi.StringWidth(line) - m.width; over > 0 && src >= 0 {
		// The source's end (the file name) tells most; the range, at the
		// end of the line, must stay readable.
		// Cut its start, keeping 12 columns of it at least.
		if cut := min(over+1, ansi.StringWidth(parts[src])-12); cut > 1 {
			parts[src] = ansi.TruncateLeft(parts[src], cut, "…")
			line = strings.Join(parts, " · ")
		}
	}
	return line
}

// loadingText is the replay progress: a bar, percent and ETA when the size
// is known (not for stdin, and not for .gz whose stream outgrows the file),
// else bytes so far; events so far.
func loadingText(p Progress, byteRate float64) string {
	s := "loading " + byteSize(p.Bytes)
	if p.TotalBytes > 0 && p.Bytes <= p.TotalBytes {
		pct := float64(p.Bytes) * 100 / float64(p.TotalBytes)
		s = fmt.Sprintf("loading %s %.0f%% of %s", bar(pct, 10), pct, byteSize(p.TotalBytes))
		if byteRate > 0 {
			eta := time.Duration(float64(p.TotalBytes-p.Bytes) / byteRate * float64(time.Second))
			s += " ETA " + eta.Round(time.Second).String()
		}
	}
	return s + fmt.Sprintf(" %d ev", p.Events)
}

func bar(pct float64, w int) string {
	n := max(0, min(w, int(pct*float64(w)/100)))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", w-n) + "]"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// tabLine names every shown tab: in full when the screen is wide enough,
// else by short names (the current tab in full); when even the shortest
// names do not fit, the tabs farthest from the current one give way to
// ‹ and ›, so that the tab bar is never cut in the middle of a name.
func (m Model) tabLine() string {
	var s string
	for level := range 3 {
		if s = m.tabBar(level, 0, numTabs); ansi.StringWidth(ansi.Strip(s)) <= m.width {
			return s
		}
	}
	lo, hi := 0, numTabs
	for hi-lo > 1 && ansi.StringWidth(ansi.Strip(s)) > m.width {
		if hi-1-m.tab >= m.tab-lo && hi-1 > m.tab {
			hi--
		} else if lo < m.tab {
			lo++
		} else {
			break
		}
		s = m.tabBar(2, lo, hi)
	}
	return s
}

// tabBar writes tabs [lo, hi) of the tab bar: level 0 full names, 1 short
// names, 2 the shortest; the current tab always in full, each with its
// key. ‹ and › say that tabs before lo or from hi on are left out.
func (m Model) tabBar(level, lo, hi int) string {
	var b strings.Builder
	if m.anyTabOn(0, lo) {
		b.WriteString("‹")
	}
	for i, t := range tabs[:hi] {
		if i < lo || !m.tabOn(i) {
			continue
		}
		k := tabKey(i)
		switch {
		case i == m.tab:
			b.WriteString(styleActive.Render("[" + strings.TrimSpace(k+" "+t.name) + "]"))
		case level == 0:
			b.WriteString(" " + strings.TrimSpace(k+" "+t.name) + " ")
		case level == 1:
			b.WriteString(" " + strings.TrimSpace(k+" "+t.short) + " ")
		case k != "" && k[0] >= '0' && k[0] <= '9':
			b.WriteString(" " + k + t.short)
		default:
			b.WriteString(" " + strings.TrimSpace(k+" "+t.short))
		}
	}
	if m.anyTabOn(hi, numTabs) {
		b.WriteString(" ›")
	}
	return b.String()
}

// anyTabOn reports whether a tab of [lo, hi) is shown.
func (m Model) anyTabOn(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if m.tabOn(i) {
			return true
		}
	}
	return false
}

func (m Model) filterLine() string {
	f := m.filter.String()
	s := "filter: " + styleDim.Render("none (/ to filter)")
	if strings.TrimSpace(f) != "" {
		s = "filter: " + printable(f)
	}
	if n := m.rowCount(); m.rows() != nil {
		s += fmt.Sprintf("  (%d rows)", n)
		if tabs[m.tab].view == views.ViewLatency && n >= latencyTop {
			s += fmt.Sprintf(" the %d slowest", latencyTop)
		}
	}
	if l := m.sortLabel(); l != "" {
		s += " " + l
	}
	if m.tab == tabDetections && m.detections != nil {
		s += "  " + detectionsNote(m.detections.counts())
	}
	if m.work.busy {
		s += " …"
	}
	if f := m.findText(); f != "" {
		s += "  " + printable(f)
	}
	if m.status.note != "" {
		s += "  " + printable(m.status.note)
	}
	if m.status.err != "" {
		first, _, _ := strings.Cut(m.status.err, "\n")
		s += "  " + styleError.Render("error: "+printable(first))
	}
	return s
}

func (m Model) footer() string {
	if m.bar.Focused() {
		return m.help.ShortHelpView(m.bar.keys.ShortHelp())
	}
	if m.find.input.Focused() {
		return m.help.ShortHelpView(m.bar.keys.ShortHelp()[:2])
	}
	if m.brush.on {
		return m.help.ShortHelpView(DefaultBrushKeyMap().ShortHelp())
	}
	if m.over.pane == paneHistory {
		return m.help.ShortHelpView(m.over.hist.keys.ShortHelp())
	}
	if m.over.pick {
		return m.help.ShortHelpView(copyFieldKeys())
	}
	return m.help.ShortHelpView(m.keys.ShortHelp())
}

// clip cuts every line to width cells and the screen to height lines, so a
// small terminal degrades by cutting, never by wrapping. A cut line keeps
// its styling (the cursor row's highlight, a denial's colour).
func clip(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return strings.Join(lines, "\n")
}

// sparkLabel is the room the sparkline's legend takes.
const sparkLabel = 30

func (m Model) sparkWidth() int { return max(10, m.width-sparkLabel) }

var sparkRunes = []rune(" ▁▂▃▄▅▆▇█")

// sparkline draws the filter's requests per time bucket across the time
// range, and under it a row of markers: ✗ under buckets holding denials,
// ! under those holding 5xx (the colour-free channel: NO_COLOR and
// colour-blind users read the markers; colour repeats them).
func (m Model) sparkline() (spark, marks string) {
	h := m.res.spark
	if len(h.counts) == 0 {
		return "", ""
	}
	peak, denied, errs := 0, 0, 0
	for i, c := range h.counts {
		peak = max(peak, c)
		denied += h.denied[i]
		errs += h.errors[i]
	}
	// Runs of buckets of one kind are styled together: one Render per
	// run, not per bucket (it is most of a frame's cost otherwise).
	var b, mk strings.Builder
	var run, mrk []rune
	kind, sel := markNone, false
	flush := func() {
		if sel {
			b.WriteString(styleSelected.Render(string(run)))
			mk.WriteString(string(mrk))
			run, mrk = run[:0], mrk[:0]
			return
		}
		switch kind {
		case markDenied:
			b.WriteString(styleDenied.Render(string(run)))
			mk.WriteString(styleDenied.Render(string(mrk)))
		case mark5xx, markHit:
			b.WriteString(style5xx.Render(string(run)))
			mk.WriteString(style5xx.Render(string(mrk)))
		default:
			b.WriteString(string(run))
			mk.WriteString(string(mrk))
		}
		run, mrk = run[:0], mrk[:0]
	}
	hitAt, nhits := m.res.hitMarks, m.res.hitCount
	for i, c := range h.counts[:min(len(h.counts), m.sparkWidth())] {
		r := sparkRunes[0]
		if c > 0 {
			r = sparkRunes[1+(c*(len(sparkRunes)-2))/max(1, peak)]
		}
		k, marker := markNone, ' '
		switch {
		case i < len(hitAt) && hitAt[i] > 0:
			k, marker = markHit, '◆'
		case h.denied[i] > 0:
			k, marker = markDenied, '✗'
		case h.errors[i] > 0:
			k, marker = mark5xx, '!'
		}
		if s := m.brush.covers(i); k != kind || s != sel {
			flush()
			kind, sel = k, s
		}
		run, mrk = append(run, r), append(mrk, marker)
	}
	flush()
	fmt.Fprintf(&b, " peak %d", peak)
	if nhits > 0 {
		fmt.Fprintf(&mk, " ◆ %d", nhits)
	}
	if m.res.hitsDropped > 0 {
		fmt.Fprintf(&mk, " (%d dropped)", m.res.hitsDropped)
	}
	fmt.Fprintf(&mk, " ✗ %d denied, ! %d 5xx", denied, errs)
	return b.String(), mk.String()
}
