package tui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/internal/goldenfile"
	"github.com/kaudit/kaudit/store"
)

// fixedNow is the clock of every test model: no wall clock in goldens.
func fixedNow() time.Time { return gen.DefaultStart }

// genStore fills a store with n generated events (fixed seed and clock).
func genStore(tb testing.TB, n int) *store.Store {
	tb.Helper()
	st := store.New()
	appendGen(tb, st, gen.New(gen.Config{Seed: 7}), n)
	return st
}

// appendGen appends n events from g to st, through Append as the writer
// goroutine does, in batches of at most 4096.
func appendGen(tb testing.TB, st *store.Store, g *gen.Generator, n int) {
	tb.Helper()
	for n > 0 {
		k := min(n, 4096)
		n -= k
		var buf []byte
		starts := make([]int, 0, k)
		for range k {
			starts = append(starts, len(buf))
			buf = g.Next(buf)
		}
		appendLines(tb, st, buf, starts)
	}
}

// appendLines decodes the lines starting at starts in buf and appends them
// to st, with buf (as a bytes.Reader) holding the raw bytes.
func appendLines(tb testing.TB, st *store.Store, buf []byte, starts []int) {
	tb.Helper()
	var evs []audit.Event
	var offs []int64
	for i, start := range starts {
		end := len(buf)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		line := bytes.TrimRight(buf[start:end], "\n")
		k := len(evs)
		var err error
		if evs, err = audit.Decode(line, evs); err != nil {
			tb.Fatalf("line %d: %v", i, err)
		}
		for _, e := range evs[k:] {
			offs = append(offs, int64(start+cap(line)-cap(e.Raw)))
		}
	}
	st.Append(evs, bytes.NewReader(buf), offs)
}

// drive sends msgs to m, running every Cmd they produce (and the Cmds
// those produce) synchronously, as bubbletea would, until none is left.
func drive(tb testing.TB, m Model, msgs ...tea.Msg) Model {
	tb.Helper()
	for _, msg := range msgs {
		nm, cmd := m.Update(msg)
		m = run(tb, nm.(Model), cmd)
	}
	return m
}

func run(tb testing.TB, m Model, cmd tea.Cmd) Model {
	tb.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil, tea.QuitMsg:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			nm, next := m.Update(msg)
			m = nm.(Model)
			queue = append(queue, next)
		}
	}
	return m
}

// started is a model over st, sized, with its first result computed.
func started(tb testing.TB, st *store.Store, w, h int) Model {
	tb.Helper()
	m := New(Options{Store: st, Now: fixedNow})
	m.env.clock = stepClock(time.Second)
	m = run(tb, m, m.Init())
	return drive(tb, m, tea.WindowSizeMsg{Width: w, Height: h})
}

// stepClock is a clock that moves on by step at every reading, so that
// every changedMsg a test sends is due.
func stepClock(step time.Duration) func() time.Time {
	t := gen.DefaultStart
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func keys(s ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range s {
		switch k {
		case "enter":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			out = append(out, tea.KeyMsg{Type: tea.KeyEsc})
		case "tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyTab})
		case "shift+tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyShiftTab})
		case "up":
			out = append(out, tea.KeyMsg{Type: tea.KeyUp})
		case "down":
			out = append(out, tea.KeyMsg{Type: tea.KeyDown})
		case "left":
			out = append(out, tea.KeyMsg{Type: tea.KeyLeft})
		case "right":
			out = append(out, tea.KeyMsg{Type: tea.KeyRight})
		case "pgdown":
			out = append(out, tea.KeyMsg{Type: tea.KeyPgDown})
		case "end":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnd})
		case "backspace":
			out = append(out, tea.KeyMsg{Type: tea.KeyBackspace})
		default:
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
	return out
}

// golden compares got, without styling, with testdata/name, or rewrites
// it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(ansi.Strip(got)+"\n"))
}

// TestMain pins lipgloss to plain text: goldens and the terminal-safety
// test must not depend on the terminal running the tests, and with no
// styling any ESC in View's output can only have come from an event.
func TestMain(m *testing.M) {
	statusTTL = 0 // notes stay: drive runs every Cmd, and a Tick would sleep
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}
