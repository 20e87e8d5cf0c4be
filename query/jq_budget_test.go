package query

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// withBudget lowers the budgets for a test, so that it runs quickly.
func withBudget(t *testing.T, d time.Duration, heap uint64) {
	t.Helper()
	oldT, oldH := JQEventTime, JQHeapBudget
	JQEventTime, JQHeapBudget = d, heap
	t.Cleanup(func() { JQEventTime, JQHeapBudget = oldT, oldH })
}

func budgetError(t *testing.T, err error, what string) {
	t.Helper()
	var be *BudgetError
	if !errors.As(err, &be) || be.What != what {
		t.Fatalf("err %v, want the %s budget", err, what)
	}
}

// runaway programs: unbounded recursion grows gojq's stack on the heap;
// the others are bounded in memory and never end.
var runaway = []struct{ prog, budget string }{
	{`def f: 1+f; f`, "memory"},
	{`[range(1e12)] | length`, "memory"},
	{`last(range(1e12))`, "time"},
}

// budgetFor lowers the budget the program should go over and leaves the
// other generous, so that the right one fires even on a busy machine.
func budgetFor(t *testing.T, what string) {
	if what == "time" {
		withBudget(t, 300*time.Millisecond, 1<<30)
	} else {
		withBudget(t, time.Minute, 64<<20)
	}
}

func TestFilterBudget(t *testing.T) {
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	for _, r := range runaway {
		t.Run(r.prog, func(t *testing.T) {
			budgetFor(t, r.budget)
			runtime.GC()
			before, _ := heapBytes()
			f, err := Compile(r.prog)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Eval(context.Background(), st, st.All())
			budgetError(t, err, r.budget)
			// The memory went back: the heap is near where it was.
			if after, _ := heapBytes(); after > before+32<<20 {
				t.Errorf("heap %d MiB after the run, %d MiB before", after>>20, before>>20)
			}
		})
	}
}

func TestWriteJQBudget(t *testing.T) {
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	for _, r := range runaway {
		t.Run(r.prog, func(t *testing.T) {
			budgetFor(t, r.budget)
			p, err := CompileProgram(r.prog)
			if err != nil {
				t.Fatal(err)
			}
			err = WriteJQ(context.Background(), &bytes.Buffer{}, st, st.All(), p, func(*EventError) {})
			budgetError(t, err, r.budget)
		})
	}
}

// A slow reader of --jq's output is not the program's time.
func TestWriteJQSlowWriterIsNotOverBudget(t *testing.T) {
	// The writer's wait is five times the budget; evaluating one event
	// takes far less than the budget even on a busy machine (50 ms did
	// not, once, at load 30).
	withBudget(t, 250*time.Millisecond, 1<<30)
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	w := &slowWriter{d: 1250 * time.Millisecond}
	// Small outputs sit in the 64 KiB buffer: a program printing one big
	// output per event makes every write reach the writer.
	p, err := CompileProgram(`"` + strings.Repeat("x", 70000) + `"`)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteJQ(context.Background(), w, st, st.All().Clone(), p, func(*EventError) {}); err != nil {
		t.Fatalf("a slow writer stopped --jq: %v", err)
	}
	if w.n == 0 {
		t.Fatal("nothing written")
	}
}

type slowWriter struct {
	d time.Duration
	n int
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.n < 2 {
		time.Sleep(w.d)
	}
	w.n++
	return len(p), nil
}

// No environment: $ENV and env are empty in filters and in --jq.
func TestJQNoEnvironment(t *testing.T) {
	t.Setenv("DD_API_KEY", "leaked-key")
	st := loadStore(t, "audit2rbac-demo-v1.jsonl")
	p, err := CompileProgram(`$ENV, env, ($ENV.DD_API_KEY // "none")`)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteJQ(context.Background(), &out, st, st.All(), p, func(e *EventError) { t.Error(e) }); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "leaked-key") || !strings.HasPrefix(out.String(), "{}\n{}\n\"none\"\n") {
		t.Errorf("environment visible: %.200s", out.String())
	}
}
