// Package query turns filter text into a compiled Filter (the filter language: README, "Filters").
//
// The text is either quick terms (user:alice verb:delete,patch -ns:kube-*
// latency>1s denied …) or a jq program. Compile parses it and plans it into
// index terms answered from the store's postings lists, column scans over
// the candidates, and — only for what is left — a gojq program run on the
// original event bytes. Simple jq comparisons become index terms too, so the
// common jq filters are as fast as quick terms.
//
// The package also runs per-event jq programs for --jq output (WriteJQ).
// Tables, aggregates and their writers live in package views.
package query
