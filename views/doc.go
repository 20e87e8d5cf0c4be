// Package views turns a set of store events into the tables an operator
// reads: events, users, verbs, resources, namespaces, codes, latency and
// denials (Build for a one-shot table, Aggregate for one that follows a live
// stream incrementally), and writes tables and raw events out as aligned
// text, JSON lines or one JSON document. Every printed cell is terminal-safe.
package views
