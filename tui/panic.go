package tui

import (
	"fmt"
	"os"
	"runtime/debug"

	tea "github.com/charmbracelet/bubbletea"
)

// A panic must not leave the operator's terminal in raw mode on the
// alternate screen. bubbletea recovers a panic in Update or View, restores
// the terminal and then prints it; a panic in a Cmd goroutine it prints
// while the alternate screen is still up, where it is lost. So every Cmd
// of ours runs under safe, which turns a panic into a panicMsg, and Update
// panics again with it on the event loop, where it is printed after the
// terminal is restored.

// panicMsg is a panic caught in a Cmd goroutine.
type panicMsg struct {
	value any
	stack []byte
}

// safe runs cmd, turning a panic into a panicMsg.
func safe(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = panicMsg{value: r, stack: debug.Stack()}
			}
		}()
		return cmd()
	}
}

// repanic re-raises a Cmd's panic on the event loop, with the stack of
// where it happened.
func (p panicMsg) repanic() {
	panic(fmt.Sprintf("%v\n\nin a background command:\n%s", p.value, p.stack))
}

// testPanic is a hidden trigger for the end-to-end test of terminal
// restoration, and nothing else: with KAUDIT_TEST_PANIC=update (or =cmd)
// in the environment, the key "!" panics in Update (or in a Cmd
// goroutine). Unset, "!" does nothing.
var testPanic = os.Getenv("KAUDIT_TEST_PANIC")

// testPanicKey answers "!" when the trigger is armed.
func testPanicKey(mode string) tea.Cmd {
	switch mode {
	case "update":
		panic("KAUDIT_TEST_PANIC: test-only panic in Update")
	case "cmd":
		return safe(func() tea.Msg { panic("KAUDIT_TEST_PANIC: test-only panic in a command") })
	}
	return nil
}
