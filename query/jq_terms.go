package query

import (
	"math"
	"slices"
	"strconv"
)

// Terms of a jq filter: the atoms of its plan that test a field for
// equality with string (or, for the code, integer) literals — `.verb ==
// "get"`, `.objectRef.namespace | IN("a", "b")`, `denied` — spelt as the
// quick terms that mean the same, so that a source filtering before it
// sends (a VictoriaLogs read-back) pushes them down like quick terms.

// jqTermKeys maps a stored field's jq path to its quick-term key.
var jqTermKeys = map[string]string{
	".verb":                  "verb",
	".user.username":         "user",
	".objectRef.namespace":   "ns",
	".objectRef.resource":    "resource",
	".objectRef.subresource": "subresource",
	".objectRef.name":        "name",
	`.annotations["authorization.k8s.io/decision"]`: "decision",
	".auditID":             "auditid",
	".responseStatus.code": "code",
	"source":               "source", // the helper: the stored source
}

// pushTerm is the term every event p keeps satisfies, or nil: p must be
// an equality (== or IN) with literals all of the field's JSON type.
func pushTerm(f jqField, p pred) *Term {
	key, ok := jqTermKeys[f.desc]
	if !ok || len(p.eq) == 0 {
		return nil
	}
	t := &Term{Key: key}
	for _, l := range p.eq {
		switch v := l.(type) {
		case string:
			if key == "code" {
				return nil // a string never equals the number
			}
			t.Values = append(t.Values, v)
		case int:
			if key != "code" {
				return nil
			}
			t.Values = append(t.Values, strconv.Itoa(v))
		case float64:
			if key != "code" || v != math.Trunc(v) || math.Abs(v) > 1e9 {
				return nil
			}
			t.Values = append(t.Values, strconv.Itoa(int(v)))
		default:
			return nil // null, booleans: not a value the attribute holds
		}
		t.Globs = append(t.Globs, false)
	}
	return t
}

// jqTerms lists terms that every event n keeps satisfies: those of its
// conjuncts, and for `l or r` a term of the same key on both sides,
// their values joined.
func jqTerms(n node) []Term {
	switch n := n.(type) {
	case *atom:
		if n.push != nil {
			return []Term{*n.push}
		}
	case *andNode:
		return append(jqTerms(n.l), jqTerms(n.r)...)
	case *orNode:
		var out []Term
		r := jqTerms(n.r)
		for _, lt := range jqTerms(n.l) {
			for _, rt := range r {
				if lt.Key == rt.Key {
					out = append(out, Term{Key: lt.Key, Values: slices.Concat(lt.Values, rt.Values), Globs: slices.Concat(lt.Globs, rt.Globs)})
					break
				}
			}
		}
		return out
	}
	return nil
}
