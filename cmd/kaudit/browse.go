package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
	"github.com/kaudit/kaudit/views"
)

// feed is the writer side of the browser: the one goroutine that appends
// to the store, and the progress the header shows.
//
// Goroutines: the writer goroutine calls append, problem and finish; the
// UI's event loop calls progress (through tui.Options.Progress). A mutex
// orders them.
type feed struct {
	st  *store.Store
	sig tui.Signal

	mu       sync.Mutex
	prog     tui.Progress
	offsets  map[string]int64 // end of the last batch, per input path
	problems []ingest.Problem // kept to print once the screen is restored

	policy tui.PolicyFunc // what the UI's P simulates (nil: no --policy)
	// health, once set, tells whether positions are being saved (the header
	// says so when they are not).
	health func() (ingest.Health, bool)

	// With --detect: the writer evaluates the rules over each batch
	// (detect, nil without) and the UI reads the hits from detections.
	detect     func()
	detections *tui.DetectionLog
	detectErr  string // the first failed evaluation, printed after the UI
}

// maxKeptProblems bounds what feed keeps for after the TUI; the count
// goes on.
const maxKeptProblems = 10000

func newFeed(source string) *feed {
	return &feed{st: store.New(), sig: tui.NewSignal(), offsets: map[string]int64{}, prog: tui.Progress{Source: source}}
}

// noted counts a batch that was stored and wakes the UI.
func (f *feed) noted(b ingest.Batch) {
	f.mu.Lock()
	f.offsets[b.Pos.Path] = b.Pos.Offset
	var total int64
	for _, off := range f.offsets {
		total += off
	}
	f.prog.Bytes = total
	f.prog.Events += int64(len(b.Events))
	f.mu.Unlock()
	if f.detect != nil {
		f.detect() // before the UI wakes, so that it sees the batch's hits
	}
	f.sig.Notify()
}

func (f *feed) problem(p ingest.Problem) {
	f.mu.Lock()
	f.prog.Problems += p.Count()
	if len(f.problems) < maxKeptProblems {
		f.problems = append(f.problems, p)
	}
	f.mu.Unlock()
}

// problemList is the problems kept so far, as file:line: why.
func (f *feed) problemList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.problems))
	for i, p := range f.problems {
		out[i] = p.String()
	}
	return out
}

func (f *feed) finish() {
	f.mu.Lock()
	f.prog.Loading = false
	f.mu.Unlock()
	f.sig.Notify()
}

func (f *feed) progress() tui.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.prog
	if f.health != nil {
		if h, ok := f.health(); ok && h.Failing {
			p.Alert = fmt.Sprintf("positions not saved since %s: %s", h.FailingSince.Format("15:04:05"), h.LastError)
		}
	}
	return p
}

// watchHealth makes the header report positions that cannot be saved.
func (f *feed) watchHealth(health func() (ingest.Health, bool)) {
	f.mu.Lock()
	f.health = health
	f.mu.Unlock()
}

// browse runs the TUI over f until the user quits, then stops the writer
// (cancel) and prints what the screen could not show: input problems.
func browse(ctx context.Context, e *env, f *feed, filter *query.Filter, view views.View, cancel context.CancelFunc, writerDone <-chan struct{}) error {
	opts := tui.Options{Store: f.st, Signal: f.sig, Progress: f.progress, Problems: f.problemList, Filter: filter, View: view, Suggest: suggestFor(f.st), Revoked: revokedFor(f.st), Policy: f.policy, History: historyFor, Detections: f.detections}
	err := tui.Run(ctx, opts, e.stdin, e.stdout)
	cancel()
	<-writerDone
	f.printProblems(e.stderr)
	if f.detectErr != "" {
		fmt.Fprintf(e.stderr, "kaudit: --detect: %s\n", f.detectErr)
	}
	return err
}

// printProblems writes the input problems the screen could not show.
func (f *feed) printProblems(w io.Writer) {
	f.mu.Lock()
	problems := f.problems
	n := f.prog.Problems
	f.mu.Unlock()
	if n == 0 {
		return
	}
	report := ingest.NewReporter(w, ingest.DefaultReportLimit)
	for _, p := range problems {
		report.Report(p)
	}
	report.Close()
	if n > len(problems) {
		fmt.Fprintf(w, "kaudit: %d more problems not listed\n", n-len(problems))
	}
}

// detectWith makes the writer run live over each stored batch; the hits go
// to the UI through f.detections. Called before the writer starts.
func (f *feed) detectWith(ctx context.Context, live *detect.Live) {
	f.detections = tui.NewDetectionLog()
	f.detect = func() {
		hits, err := live.Eval(ctx, f.st)
		if err != nil {
			if f.detectErr == "" && ctx.Err() == nil {
				f.detectErr = err.Error() // read after the writer is done
			}
			return
		}
		f.detections.Rebased(f.st.IDBase()) // the hits' IDs are the store's now
		f.detections.Add(uiDetections(f.st, hits))
	}
}

// uiDetections are hits as the UI shows them.
func uiDetections(st *store.Store, hits []detect.Hit) []tui.Detection {
	out := make([]tui.Detection, len(hits))
	for i, h := range hits {
		out[i] = tui.Detection{Rule: h.Rule.Name, Severity: h.Rule.Severity.String(), Technique: h.Rule.Technique, ID: h.ID, Time: st.Entry(h.ID).Time}
	}
	return out
}
