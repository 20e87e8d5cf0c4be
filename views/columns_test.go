package views

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

var formats = []string{"table", "json", "jsonl"}

// render prints view v of every request (every event for the events
// view's raw formats) as a headless replay does, or says what it
// panicked with.
func render(st *store.Store, v View, format string, top int) (out string, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	var b bytes.Buffer
	if v == ViewEvents && format != "table" {
		if err := WriteRaw(&b, st, st.All(), format == "json"); err != nil {
			return "error: " + err.Error(), ""
		}
		return b.String(), ""
	}
	t, err := Build(st, st.Requests(), v, top)
	if err != nil {
		return "error: " + err.Error(), ""
	}
	switch format {
	case "json":
		err = WriteJSON(&b, t)
	case "jsonl":
		err = WriteJSONLines(&b, t)
	default:
		err = WriteText(&b, t)
	}
	if err != nil {
		return "error: " + err.Error(), ""
	}
	return b.String(), ""
}

// columnEvents are the generator's events and stages (impersonation,
// denials, watches and other long-running verbs, non-resource paths,
// several user agents and sources), with some denials of every cause.
func columnEvents(t *testing.T) ([]audit.Event, []byte, []int64) {
	columnOnce.Do(func() { columnEvs, columnBuf, columnOffs = makeColumnEvents(t) })
	return columnEvs, columnBuf, columnOffs
}

var (
	columnOnce sync.Once
	columnEvs  []audit.Event
	columnBuf  []byte
	columnOffs []int64
)

func makeColumnEvents(t *testing.T) ([]audit.Event, []byte, []int64) {
	evs, buf, offs := genEvents(t, 3, 3000)
	for i := range evs {
		e := &evs[i]
		e.Source = []string{"cp1", "cp2", ""}[i%3]
		switch i % 97 {
		case 1: // an impersonation refused
			e.Code, e.Decision, e.Message, e.Reason = 403, "", `users "x" is forbidden: User "y" cannot impersonate resource "users"`, ""
		case 2: // admission
			e.Code, e.Decision, e.Reason = 403, "allow", "RBAC: allowed by ClusterRoleBinding"
		case 3: // a webhook's
			e.Code, e.Decision, e.Reason = 403, "forbid", "webhook said no"
		case 4: // an old log's RBAC denial, with no decision
			e.Code, e.Decision, e.Reason, e.Message = 403, "", "", `pods is forbidden: User "bob" cannot list resource "pods"`
		}
	}
	return evs, buf, offs
}

func columnStores(t *testing.T, cols store.Columns) (full, proj *store.Store) {
	evs, buf, offs := columnEvents(t)
	raw := bytes.NewReader(buf)
	full, proj = store.New(store.LazyPostings()), store.New(store.LazyPostings(), store.OnlyColumns(cols))
	for lo := 0; lo < len(evs); lo += 512 {
		hi := min(lo+512, len(evs))
		full.Append(evs[lo:hi], raw, offs[lo:hi])
		keys := make([]audit.Keys, hi-lo)
		proj.Prepare(evs[lo:hi], keys)
		proj.AppendKeys(evs[lo:hi], keys, raw, offs[lo:hi])
	}
	return full, proj
}

// withSplit runs fn with the views built in one part and split between
// goroutines (as over a big log).
func withSplit(t *testing.T, fn func(split bool)) {
	was, wasRows := splitMin, rowsSplitMin
	defer func() { splitMin, rowsSplitMin = was, wasRows }()
	for _, split := range []bool{false, true} {
		if split {
			splitMin, rowsSplitMin = 64, 64
		}
		fn(split)
	}
}

// TestColumnsSuffice: every view, in every format, with and without
// --top, built one-part and split, prints the same bytes over a store
// keeping only the view's Columns as over a full store.
func TestColumnsSuffice(t *testing.T) {
	withSplit(t, func(split bool) {
		for _, v := range Views {
			for _, format := range formats {
				cols := Columns(v, format)
				full, proj := columnStores(t, cols)
				for _, top := range []int{0, 7} {
					want, wp := render(full, v, format, top)
					got, gp := render(proj, v, format, top)
					name := fmt.Sprintf("%s -o %s --top %d split %v (columns %v)", v, format, top, split, cols)
					switch {
					case wp != "" || gp != "":
						t.Errorf("%s: panicked: full store %q, projected %q", name, wp, gp)
					case len(want) < 100:
						t.Errorf("%s: output too small to tell: %q", name, want)
					case got != want:
						t.Errorf("%s: output differs over the projected store:\n%.600s\nwant:\n%.600s", name, got, want)
					}
				}
			}
		}
	})
}

// TestUndeclaredColumnFails: a view whose store lacks one of the columns
// it reads fails loudly (panics) or prints something else, for each
// column each view declares: the check TestColumnsSuffice relies on
// works, and each declared column is read (over these events).
// (One part only: a panic on a build's goroutine cannot be recovered.)
func TestUndeclaredColumnFails(t *testing.T) {
	var panics int
	for _, split := range []bool{false} {
		for _, v := range Views {
			for _, format := range formats {
				cols := Columns(v, format)
				for c := store.Columns(1); c <= cols; c <<= 1 {
					if cols&c == 0 {
						continue
					}
					full, proj := columnStores(t, cols&^c)
					want, _ := render(full, v, format, 0)
					got, p := render(proj, v, format, 0)
					switch {
					case p != "":
						panics++
					case got == want:
						t.Errorf("%s -o %s split %v: the same output without column %v: not read, or not covered by the events", v, format, split, c)
					}
				}
			}
		}
	}
	if panics == 0 {
		t.Error("no view panicked on a column its store dropped")
	}
}
