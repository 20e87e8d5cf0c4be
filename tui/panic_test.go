package tui

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// A panic in a Cmd goroutine comes back as a message and is raised again
// in Update, on bubbletea's event loop, which restores the terminal before
// printing it.
func TestCommandPanic(t *testing.T) {
	msg := safe(func() tea.Msg { panic("boom") })()
	p, ok := msg.(panicMsg)
	if !ok || p.value != "boom" || !bytes.Contains(p.stack, []byte("panic_test.go")) {
		t.Fatalf("safe returned %#v", msg)
	}
	m := started(t, genStore(t, 10), 80, 24)
	got := func() (r any) {
		defer func() { r = recover() }()
		m.Update(p)
		return nil
	}()
	if s := fmt.Sprint(got); !strings.Contains(s, "boom") || !strings.Contains(s, "in a background command") || !strings.Contains(s, "panic_test.go") {
		t.Fatalf("Update raised %q", s)
	}
	if safe(nil) != nil {
		t.Error("safe(nil) is not nil")
	}
}

// The hidden test-only trigger does nothing unless armed.
func TestPanicTrigger(t *testing.T) {
	if testPanic != "" {
		t.Skip("KAUDIT_TEST_PANIC is set")
	}
	m := started(t, genStore(t, 10), 80, 24)
	if _, cmd := m.Update(keys("!")[0]); cmd != nil {
		t.Fatal("! does something without KAUDIT_TEST_PANIC")
	}
	if testPanicKey("") != nil {
		t.Fatal("unarmed trigger returned a command")
	}
	if _, ok := testPanicKey("cmd")().(panicMsg); !ok {
		t.Fatal("cmd trigger did not panic in its command")
	}
}

// In a real bubbletea program, a panic in one of our Cmds ends Run with
// ErrProgramPanic (bubbletea restored the terminal and printed it), rather
// than being printed on the alternate screen from a goroutine.
func TestProgramPanic(t *testing.T) {
	testPanic = "cmd"
	defer func() { testPanic = "" }()
	m := New(Options{Store: genStore(t, 10), Now: fixedNow})
	var out bytes.Buffer
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(&out), tea.WithoutSignalHandler())
	go func() {
		time.Sleep(100 * time.Millisecond)
		p.Send(keys("!")[0])
	}()
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Fatalf("Run: %v, want ErrProgramPanic", err)
		}
	case <-time.After(10 * time.Second):
		p.Kill()
		t.Fatal("the program did not end on the panic")
	}
}
