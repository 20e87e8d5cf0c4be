// Package detect runs named detection rules over audit events.
//
// A rule is kaudit's filter language (quick terms or jq, package query)
// plus a severity, a one-line description, a MITRE ATT&CK technique where
// one applies, rule-specific exceptions and named suppressions. The
// built-in pack (rules/*.yaml, embedded) has the same format as a user's
// --rules DIR. Rules are evaluated as store queries: index terms answer
// most of each filter from postings, and only the candidates left run the
// residual jq. Suppressions are filters too and are taken out of the
// candidates first. The default one, system-principal, treats principals
// as Panther's is_system_principal does (see rules/suppressions.yaml).
//
// Threshold rules ("N distinct X per Y within T") count the events their
// filter keeps over the time-ordered stream. Their state is bounded: per
// rule at most Options.MaxKeys keys (default 10000; the least recently
// seen is forgotten beyond that, and Engine.Evicted counts it), each
// holding fewer than Count entries, because a key is reset when it fires.
//
// What the rules can see depends on the audit policy: rules on request
// bodies (privileged pods, hostPath, role rules, bindings, NodePort) need
// the Request or RequestResponse level for those resources; at Metadata
// level they cannot fire.
package detect
