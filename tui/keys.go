package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is every key the browser answers to. Keys are matched only with
// key.Matches, so rebinding one here changes both behaviour and help.
type KeyMap struct {
	Table                               TableKeyMap // moving in a tab's table
	NextTab, PrevTab                    key.Binding
	Tabs                                [numKeyed]key.Binding // 1–9, 0
	Filter, Open, Back                  key.Binding
	Follow, Pause, Sort, SortDir, Write key.Binding
	Help, Quit, Suspend, Problems       key.Binding
	// Interrupt quits wherever the focus is, even in the filter bar (not
	// in the help: Quit lists ctrl+c).
	Interrupt key.Binding
	// In the Denials tab (7, when an RBAC suggester is wired in): space
	// selects rows there instead of pausing, r suggests RBAC for them, w
	// in the suggestion writes its YAML (shown in that pane's own hint).
	SelectDenial, SuggestRBAC, WriteYAML key.Binding
	// With an audit policy given (--policy): simulate it over the filter.
	Policy key.Binding
	// With a history reader wired in: the object's history (H).
	History key.Binding
	// With --detect: the Detections tab (D; also reached with tab).
	Detections key.Binding
	// Time: zoom the range in and out around the cursor's time, pick one
	// on the sparkline (TimeRange, then BrushKeyMap).
	ZoomIn, ZoomOut, TimeRange key.Binding
	// Forward undoes Back (drill-downs, zooms).
	Forward key.Binding
	// Find in view: Find opens the find bar; FindNext and FindPrev jump
	// between its matches.
	Find, FindNext, FindPrev key.Binding
	// In an event's page: the previous and next row of the table, wrap
	// long lines, copy the event or one field (OSC 52), scroll sideways.
	PrevEvent, NextEvent, Wrap, Copy, CopyField, Left, Right key.Binding
	// On an event's page: show its secrets, after a confirmation.
	ShowSecrets key.Binding
}

// DefaultKeyMap returns the documented bindings (issue 4, "Keys").
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Table:     DefaultTableKeyMap(),
		NextTab:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next tab")),
		PrevTab:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev tab")),
		Tabs:      tabKeys(),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open/drill")),
		Back:      key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Follow:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		Pause:     key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause")),
		Sort:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort by")),
		SortDir:   key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "sort dir")),
		Write:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "write jsonl")),
		Problems:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "skipped")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Suspend:   key.NewBinding(key.WithKeys("ctrl+z"), key.WithHelp("ctrl+z", "suspend")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c")),

		SelectDenial: key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "7: select")),
		SuggestRBAC:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "7: RBAC fix")),
		WriteYAML:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "write YAML")),
		Policy:       key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "policy sim")),
		History:      key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "object history")),
		Detections:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "detections tab")),

		ZoomIn:    key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "zoom in")),
		ZoomOut:   key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "zoom out")),
		TimeRange: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "pick range")),
		Forward:   key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "forward")),
		Find:      key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "find")),
		FindNext:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
		FindPrev:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
		PrevEvent: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev event")),
		NextEvent: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next event")),
		Wrap:      key.NewBinding(key.WithKeys("W"), key.WithHelp("W", "wrap")),
		Copy:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy JSON")),
		CopyField: key.NewBinding(key.WithKeys("Y"), key.WithHelp("Y", "copy a field")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/→", "scroll sideways")),
		Right:     key.NewBinding(key.WithKeys("right", "l")),

		ShowSecrets: key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "secrets")),
	}
}

// ShortHelp is the footer (help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Filter, k.Find, k.Open, k.Back, k.ZoomIn, k.TimeRange, k.Help, k.Quit}
}

// FullHelp is the ? screen (help.KeyMap), one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	// The tab keys show as one line: the tab bar names them.
	tabs := key.NewBinding(key.WithKeys(k.Tabs[0].Keys()...), key.WithHelp("1-9,0", "tabs (more: tab)"))
	return [][]key.Binding{
		append(k.Table.FullHelp()[0], k.NextTab, k.PrevTab, tabs),
		{k.Filter, k.Find, k.FindNext, k.FindPrev, k.Open, k.Back, k.Forward, k.Sort, k.SortDir, k.ZoomIn, k.ZoomOut, k.TimeRange},
		{k.PrevEvent, k.NextEvent, k.Wrap, k.Left, k.Copy, k.CopyField, k.ShowSecrets, k.Write, k.SelectDenial, k.SuggestRBAC, k.Follow, k.Pause, k.Problems, k.Policy, k.History, k.Detections, k.Help, k.Suspend, k.Quit},
	}
}

func (k KeyMap) tabs() []key.Binding { return k.Tabs[:] }

// tabKeys binds 1–9 and 0 to the first tabs in order.
func tabKeys() [numKeyed]key.Binding {
	var b [numKeyed]key.Binding
	for i, t := range tabs[:numKeyed] {
		k := tabKey(i)
		b[i] = key.NewBinding(key.WithKeys(k), key.WithHelp(k, strings.ToLower(t.name)))
	}
	return b
}
