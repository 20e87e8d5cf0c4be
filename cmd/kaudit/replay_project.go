package main

import (
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// projectStore: a headless replay keeps in its store only the string
// columns its view prints (tests turn it off to compare).
var projectStore = true

// onHeadlessStore, when set (by tests), sees the store replayAll makes.
var onHeadlessStore func(*store.Store)

// projection is the store option a headless replay of view in format is
// loaded with: only the columns the view reads (views.Columns, see
// store.OnlyColumns), interned and kept. nil, all of them, when anything
// else reads the store: a filter, --since/--until or --jq (their terms read
// other columns and postings), forwarding or detection (they read the
// events, and the rules name any field). The terminal UI and the other
// commands never get here.
func (rf *replayFlags) projection(view views.View, format string, sel *selection) store.Option {
	f := &rf.sel
	switch {
	case !projectStore, f.filter != "", f.since != "", f.until != "", f.jq != "", sel.jq != nil,
		len(rf.fwd.urls) > 0, rf.det.ui, rf.det.only:
		return nil
	}
	return store.OnlyColumns(views.Columns(view, format))
}
