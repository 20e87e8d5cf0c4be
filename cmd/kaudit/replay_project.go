package main

import (
	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// projectStore: a headless replay keeps in its store only the string
// columns its view prints (tests turn it off to compare).
var projectStore = true

// onHeadlessStore, when set (by tests), sees the store replayAll makes
// and the fields the replay decodes.
var onHeadlessStore func(*store.Store, audit.Fields)

// projection is the columns a headless replay of view in format keeps in
// its store: only those the view reads (views.Columns, see
// store.OnlyColumns), interned and kept. None (all), when anything
// else reads the store: a filter, --since/--until or --jq (their terms read
// other columns and postings), forwarding or detection (they read the
// events, and the rules name any field). The terminal UI and the other
// commands never get here.
func (rf *replayFlags) projection(view views.View, format string, sel *selection) []store.Columns {
	f := &rf.sel
	switch {
	case !projectStore, f.filter != "", f.since != "", f.until != "", f.jq != "", sel.jq != nil,
		len(rf.fwd.urls) > 0, rf.det.ui, rf.det.only:
		return nil
	}
	return []store.Columns{views.Columns(view, format)}
}
