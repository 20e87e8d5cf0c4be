package tui

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// Run drives a whole program: keys from a reader, the screen to a writer;
// q quits, and a cancelled context stops it without an error.
func TestRun(t *testing.T) {
	st := genStore(t, 200)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Store: st, Now: fixedNow}, strings.NewReader("q"), &out)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("q did not quit")
	}
	if !strings.Contains(out.String(), "kaudit · ") {
		t.Errorf("no status line drawn: %q", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	keys, w := io.Pipe() // no key ever comes
	defer w.Close()
	go func() { done <- Run(ctx, Options{Store: st, Now: fixedNow}, keys, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cancelled: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a cancelled context did not stop the program")
	}
}

// Keys come from the input only when it can carry them: not from a
// regular file (the audit log itself, as in replay -) nor from nothing.
func TestKeysFrom(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		in   io.Reader
		want bool
	}{{nil, false}, {f, false}, {strings.NewReader("q"), true}} {
		if got := keysFrom(c.in); got != c.want {
			t.Errorf("keysFrom(%T) = %v, want %v", c.in, got, c.want)
		}
	}
}
