// Package query turns what an operator asks into answers from the store:
// the views (tables of users, verbs, resources, namespaces, codes, latency,
// denials and events) and how they are written out. Filters join it with
// the filter issue.
package query
