package rbac

import (
	"strings"
	"time"

	"github.com/kaudit/kaudit/views"
)

// DenialsTable is one row per distinct denial: who (with groups), what,
// how often, which component refused it and why, and whether the same
// request was allowed before (revoked?) or since (fixed).
func (a *Analysis) DenialsTable() *views.Table {
	t := &views.Table{View: "rbac-denials", Columns: []views.Column{
		{Header: "SUBJECT", Key: "subject", Kind: views.KindText},
		{Header: "GROUPS", Key: "groups", Kind: views.KindText},
		{Header: "VERB", Key: "verb", Kind: views.KindText},
		{Header: "RESOURCE", Key: "resource", Kind: views.KindText},
		{Header: "NAMESPACE", Key: "namespace", Kind: views.KindText},
		{Header: "NAME", Key: "name", Kind: views.KindText},
		{Header: "COUNT", Key: "count", Kind: views.KindInt},
		{Header: "FIRST", Key: "first", Kind: views.KindTime},
		{Header: "LAST", Key: "last", Kind: views.KindTime},
		{Header: "BY", Key: "by", Kind: views.KindText},
		{Header: "REASON", Key: "reason", Kind: views.KindText},
		{Header: "ALLOWED", Key: "allowed", Kind: views.KindText},
	}}
	for _, d := range a.Denials {
		reason := d.Reason
		if reason == "" {
			reason = d.Message
		}
		t.Rows = append(t.Rows, []any{d.Subject, strings.Join(d.Groups, ","), d.Verb, d.ResourceKey(), d.Namespace, d.Name,
			d.Count, d.First, d.Last, string(d.Kind), reason, allowedNote(&d)})
	}
	return t
}

func allowedNote(d *Denial) string {
	switch {
	case d.Fixed():
		return "since " + d.AllowedAt.UTC().Format(time.RFC3339) + ": " + orEmpty(d.Allowed)
	case d.Revoked() && d.RevokedBy != "":
		return "until " + d.AllowedAt.UTC().Format(time.RFC3339) + ": " + orEmpty(d.Allowed) + "; revoked? " + d.RevokedBy
	case d.Revoked():
		return "until " + d.AllowedAt.UTC().Format(time.RFC3339) + ": " + orEmpty(d.Allowed)
	}
	return ""
}

// GrantsTable is what the denied subjects were allowed, and by which
// binding: one row per subject and authorizer reason.
func (a *Analysis) GrantsTable() *views.Table {
	t := &views.Table{View: "rbac-allowed", Columns: []views.Column{
		{Header: "SUBJECT", Key: "subject", Kind: views.KindText},
		{Header: "COUNT", Key: "count", Kind: views.KindInt},
		{Header: "ALLOWED BY", Key: "reason", Kind: views.KindText},
	}}
	for _, g := range a.Grants {
		t.Rows = append(t.Rows, []any{g.Subject, g.Count, g.Reason})
	}
	return t
}

// Select keeps the denials for which keep returns true.
func (a *Analysis) Select(keep func(*Denial) bool) []Denial {
	var out []Denial
	for i := range a.Denials {
		if keep(&a.Denials[i]) {
			out = append(out, a.Denials[i])
		}
	}
	return out
}

// ForSubjects is the analysis of the subjects keep accepts only.
func (a *Analysis) ForSubjects(keep func(subject string) bool) *Analysis {
	out := &Analysis{Denials: a.Select(func(d *Denial) bool { return keep(d.Subject) })}
	for _, g := range a.Grants {
		if keep(g.Subject) {
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}
