package store

import (
	"fmt"
	"math/bits"
	"strings"
)

// Projection (OnlyColumns): a store that keeps only some string columns.
//
// Why: a headless view reads a few columns (the users view: the user and
// the impersonated user) of every request, and interning, snapshotting and
// storing the other fourteen string columns and the group lists was about
// a sixth of a replay's CPU and a quarter of its memory. A projected store
// does not look those values up (Prepare), intern them (the writer), nor
// allocate their column storage: each dropped column holds "" for every
// event. The fixed-width fields (auditID, stage, times, latency, code,
// level, flags, raw bytes) and what deduplication and stage pairing read
// are kept as always.
//
// Reading a dropped column panics (a view that reads a column it did not
// declare breaks its tests instead of printing wrong figures): Row's
// column readers, the postings and values of a dropped field, Entry and
// Each (which read every column: EachColumns reads declared ones), the
// text matches and the other support readers.

// Columns is a set of the store's string columns.
type Columns uint32

// The string columns, as Columns.
const (
	UserCol               Columns = 1 << colUser
	ImpersonatedCol       Columns = 1 << colImpersonated
	GroupsCol             Columns = 1 << colGroups // the user's groups
	ImpersonatedGroupsCol Columns = 1 << colImpersonatedGroups
	VerbCol               Columns = 1 << colVerb
	APIGroupCol           Columns = 1 << colAPIGroup
	APIVersionCol         Columns = 1 << colAPIVersion
	ResourceCol           Columns = 1 << colResource
	SubresourceCol        Columns = 1 << colSubresource
	NamespaceCol          Columns = 1 << colNamespace
	NameCol               Columns = 1 << colName
	UserAgentCol          Columns = 1 << colUserAgent
	SourceIPCol           Columns = 1 << colSourceIP
	ReasonCol             Columns = 1 << colReason
	MessageCol            Columns = 1 << colMessage
	PathCol               Columns = 1 << colPath // the request path of a non-resource request
	DecisionCol           Columns = 1 << colDecision
	SourceCol             Columns = 1 << colSource
	AllColumns            Columns = 1<<numStrCols - 1
)

var colNames = [numStrCols]string{"user", "impersonated", "groups", "impersonated groups", "verb", "apigroup",
	"apiversion", "resource", "subresource", "namespace", "name", "useragent", "sourceip", "reason", "message",
	"path", "decision", "source"}

func (c Columns) String() string {
	var names []string
	for c &= AllColumns; c != 0; c &= c - 1 {
		names = append(names, colNames[bits.TrailingZeros32(uint32(c))])
	}
	return strings.Join(names, ",")
}

// FieldColumns is the column field f is kept in (the groups' for
// FieldGroup), 0 for the fields kept in fixed-width columns (code, stage,
// level), which a projection never drops.
func FieldColumns(f Field) Columns {
	switch {
	case f == FieldGroup:
		return GroupsCol
	case f < numFields && fieldCol[f] >= 0:
		return 1 << fieldCol[f]
	}
	return 0
}

// OnlyColumns makes a store keep only the string columns cols (see
// above); the others read as "" and reading them panics.
func OnlyColumns(cols Columns) Option {
	return func(s *Store) { s.setProjection(cols & AllColumns) }
}

// projection is what a store keeps, worked out once for the hot paths.
type projection struct {
	dropped Columns
	prep    []int // the places in prepCols of the kept columns
	intern  []int // the kept columns below colSource (internKeyed)
}

func (s *Store) setProjection(kept Columns) {
	p := &s.proj
	p.dropped, p.prep, p.intern = AllColumns&^kept, nil, nil
	for j, col := range prepCols {
		if kept&(1<<col) != 0 {
			p.prep = append(p.prep, j)
		}
	}
	for col := range colSource {
		if kept&(1<<col) != 0 {
			p.intern = append(p.intern, col)
		}
	}
}

// Projection is the set of columns the store keeps (AllColumns unless
// OnlyColumns).
func (s *Store) Projection() Columns { return AllColumns &^ s.proj.dropped }

// need panics unless the store keeps every column of cols.
func (s *Store) need(cols Columns) {
	if d := cols & s.proj.dropped; d != 0 {
		panic(fmt.Sprintf("store: column %v read, but this store keeps only %v (store.OnlyColumns): declare it in the view's columns", d, s.Projection()))
	}
}

// needCol is need for one column (col < 0: a fixed-width field).
func (s *Store) needCol(col int) {
	if col >= 0 && s.proj.dropped&(1<<col) != 0 {
		s.need(1 << col)
	}
}

func (s *Store) kept(col int) bool { return s.proj.dropped&(1<<col) == 0 }
