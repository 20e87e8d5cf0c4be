package tui

import (
	"context"
	"fmt"
	"io"
	"os"

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
	_, err := tea.NewProgram(New(o), opts...).Run()
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
