package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aymanbagabas/go-osc52/v2"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the browser described by o on out, full screen, until the user
// quits or ctx is cancelled (which is not an error). Keys come from in when
// it is a terminal or another reader; when in is nil or a file that is not
// a terminal (the audit log itself, as in replay -), they come from the
// controlling terminal.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx), tea.WithOutput(out)}
	if keysFrom(in) {
		opts = append(opts, tea.WithInput(in))
	} else {
		opts = append(opts, tea.WithInputTTY())
	}
	setColour(out, os.Getenv)
	m := New(o)
	m.clip = osc52Clip(out, os.Getenv("TERM"), os.Getenv("TMUX") != "")
	_, err := tea.NewProgram(m, opts...).Run()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// keysFrom reports whether in can carry keys: a terminal, or a reader that
// is not a file (tests).
func keysFrom(in io.Reader) bool {
	if in == nil {
		return false
	}
	f, ok := in.(*os.File)
	if !ok {
		return true
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// osc52Clip copies to the terminal's clipboard with one OSC 52 write
// (tmux and screen need it wrapped to pass it on). One Write: the
// renderer's frames, also single writes, do not split it.
func osc52Clip(out io.Writer, term string, tmux bool) func([]byte) error {
	return func(b []byte) error {
		seq := osc52.New(string(b))
		switch {
		case tmux:
			seq = seq.Tmux()
		case strings.HasPrefix(term, "screen"):
			seq = seq.Screen()
		}
		_, err := io.WriteString(out, seq.String())
		return err
	}
}
