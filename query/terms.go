package query

import (
	"fmt"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// Quick terms (README, "Filters"): space-separated, ANDed.
//
//	user:alice              see below
//	verb:delete,patch       a comma means OR within a key
//	name:web-*              * matches any run of characters (values are exact otherwise)
//	ns:"my ns"              quotes for values with spaces, commas or a literal *
//	code:403 code:5xx code:400-499
//	latency>1s latency<=50ms
//	denied longrunning error
//	-user:system:*          a leading - negates a term
//
// Keys: user, group (the authenticated user's groups), verb, resource,
// subresource, apigroup, ns, name (objectRef.name), code, decision
// (authorization.k8s.io/decision), stage, level, ua (user agent), ip (the
// first of sourceIPs; also CIDR prefixes such as 10.0.0.0/8), source (the
// host, file or cluster the event was read from), auditid, as
// (impersonatedUser.username only: as:bob is what was done as bob; as:""
// is requests without impersonation), subject (whose permissions were
// checked: the impersonated user when there is one, else the authenticated
// user — the SUBJECT of the denials view and of kaudit rbac), rule (the
// requests a detection rule of that name flagged: the terminal UI with
// --detect only, see WithFlagged; rule:* is every flagged request).
//
// Semantics worth knowing:
//
//   - user:X matches when X is the authenticated user (user.username) OR
//     the impersonated one (impersonatedUser.username). The tables show an
//     impersonated request as "admin (as bob)"; an operator looking for bob
//     wants what was done as bob (that is whose permissions were checked,
//     and who the denials view names), and one looking for admin wants
//     everything admin did, impersonating or not. The jq spelling of
//     user:X is `.user.username == "X" or .impersonatedUser.username == "X"`.
//   - error is responseStatus.code >= 400: the request failed, which is
//     what the API server itself says (a Status with status "Failure") for
//     every code from 400 up. Use code:5xx for server errors, denied for
//     refusals.
//   - latency compares stageTimestamp − requestReceivedTimestamp exactly as
//     jq's `latency` does (latency>1s is `latency > 1`); events without the
//     timestamps have latency 0.
//   - apigroup is the group as the store keeps it: objectRef.apiGroup, or
//     for v1alpha1-style events the group inside objectRef.apiVersion
//     ("apps/v1"); jq's .objectRef.apiGroup is the raw field.
//   - A quoted empty value ("") matches events without that field (or with
//     it empty); a term never matches an absent field otherwise, and its
//     negation always does.

// termKeys are the keys of key:value terms, in the order help lists them.
var termKeys = []string{"user", "group", "verb", "resource", "subresource", "apigroup", "ns", "name", "code",
	"decision", "stage", "level", "ua", "ip", "auditid", "as", "subject", "since", "until", "source", "rule"}

// termWords are the terms that are a bare word.
var termWords = []string{"denied", "longrunning", "error"}

const validTerms = "valid keys: user, group, verb, resource, subresource, apigroup, ns, name, code, decision, " +
	"stage, level, ua, ip, auditid, as, source, rule, since, until; latency>DURATION (also >=, <, <=); bare words: denied, longrunning, error; " +
	"other words are free text"

// term is one parsed quick term.
type term struct {
	pos   int  // byte offset of the term in the filter
	neg   bool // a leading -
	key   string
	items []item        // key:value terms
	op    string        // latency terms: ">", ">=", "<" or "<="
	dur   time.Duration // latency terms
}

// item is one comma-separated value.
type item struct {
	pos  int
	val  string
	glob bool // unquoted and holds a *
}

// parseTerms splits text into terms, reporting the first mistake with its
// position.
func parseTerms(text string) ([]term, error) {
	var terms []term
	i := 0
	for {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i == len(text) {
			return terms, nil
		}
		t, next, err := parseTerm(text, i)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		i = next
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func parseTerm(text string, i int) (term, int, error) {
	t := term{pos: i}
	if text[i] == '-' {
		t.neg = true
		i++
	}
	start := i
	for i < len(text) && text[i] >= 'a' && text[i] <= 'z' {
		i++
	}
	t.key = text[start:i]
	end := i == len(text) || isSpace(text[i])
	switch {
	case t.key == "" && i == len(text):
		return t, 0, syntaxErr(text, i, "expected a term after -", nil)
	case t.key == "" && text[i] == '"':
		// A quoted phrase: free text with spaces.
		t.key = textKey
		return parseValues(text, t, i)
	case t.key == "latency" && !end && (text[i] == '<' || text[i] == '>'):
		return parseLatency(text, t, i)
	case end && contains(termWords, t.key):
		return t, i, nil
	case !end && text[i] == ':':
		if !contains(termKeys, t.key) {
			return t, 0, syntaxErr(text, start, fmt.Sprintf("unknown key %q (%s; quote free text with a colon: \"a:b\")", t.key, validTerms), nil)
		}
		return parseValues(text, t, i+1)
	}
	// Any other word is free text (see textNode).
	for i < len(text) && !isSpace(text[i]) {
		if text[i] == '"' {
			return t, 0, syntaxErr(text, i, `a quote may only start a word: write "free text" or key:"value"`, nil)
		}
		i++
	}
	t.key = textKey
	t.items = []item{{pos: start, val: text[start:i]}}
	return t, i, nil
}

// textKey is the key of a free-text term (a bare word or a quoted phrase).
const textKey = "text"

func parseLatency(text string, t term, i int) (term, int, error) {
	t.op = text[i : i+1]
	i++
	if i < len(text) && text[i] == '=' {
		t.op += "="
		i++
	}
	start := i
	for i < len(text) && !isSpace(text[i]) {
		i++
	}
	d, err := time.ParseDuration(text[start:i])
	if err != nil || d < 0 {
		return t, 0, syntaxErr(text, start, fmt.Sprintf("bad duration %q: want a number with a unit, such as 1s, 250ms or 1.5m", text[start:i]), nil)
	}
	t.dur = d
	return t, i, nil
}

func parseValues(text string, t term, i int) (term, int, error) {
	for {
		it := item{pos: i}
		switch {
		case i < len(text) && text[i] == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' && j+1 < len(text) && (text[j+1] == '"' || text[j+1] == '\\') {
					j++
				}
				b.WriteByte(text[j])
			}
			if j == len(text) {
				return t, 0, syntaxErr(text, i, "unterminated quoted value", nil)
			}
			it.val = b.String()
			i = j + 1
		default:
			j := i
			for j < len(text) && !isSpace(text[j]) && text[j] != ',' {
				if text[j] == '"' {
					return t, 0, syntaxErr(text, j, `a quote may only start a value: write key:"value"`, nil)
				}
				j++
			}
			if j == i {
				return t, 0, syntaxErr(text, i, fmt.Sprintf("missing value after %s: (write %s:\"\" for events without one)", t.key, t.key), nil)
			}
			it.val, it.glob = text[i:j], strings.Contains(text[i:j], "*")
			i = j
		}
		t.items = append(t.items, it)
		switch {
		case i == len(text) || isSpace(text[i]):
			return t, i, nil
		case text[i] == ',':
			i++
		default:
			return t, 0, syntaxErr(text, i, "expected a comma or a space after a quoted value", nil)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compileTerms parses quick terms and plans them: each term becomes an
// index or column operation, negated terms their complement, all ANDed.
func compileTerms(text string) (termsPlan, error) {
	var p termsPlan
	terms, err := parseTerms(text)
	if err != nil {
		return p, err
	}
	var root node
	for _, t := range terms {
		n, err := termNode(text, t)
		if err != nil {
			return p, err
		}
		if !t.neg {
			p.rng.narrow(t) // only since/until terms narrow it
		}
		p.text = p.text || t.key == textKey
		if t.neg {
			n = &notNode{x: n}
		}
		if root == nil {
			root = n
		} else {
			root = &andNode{l: root, r: n}
		}
	}
	p.root, p.terms = root, terms
	return p, nil
}

// termsPlan is compiled quick terms.
type termsPlan struct {
	root  node
	rng   timeRange
	text  bool // holds free text: the text may be meant as jq
	terms []term
}

// termFields are the keys answered from one or more indexed fields.
var termFields = map[string][]store.Field{
	"user":        {store.FieldUser, store.FieldImpersonated},
	"as":          {store.FieldImpersonated},
	"group":       {store.FieldGroup},
	"verb":        {store.FieldVerb},
	"resource":    {store.FieldResource},
	"subresource": {store.FieldSubresource},
	"apigroup":    {store.FieldAPIGroup},
	"ns":          {store.FieldNamespace},
	"decision":    {store.FieldDecision},
	"stage":       {store.FieldStage},
	"level":       {store.FieldLevel},
	"ua":          {store.FieldUserAgent},
	"ip":          {store.FieldSourceIP},
	"source":      {store.FieldSource},
}

func termNode(text string, t term) (node, error) {
	desc := termString(t)
	switch t.key {
	case "denied":
		return flagAtom("denied", store.Row.Denied), nil
	case "longrunning":
		return flagAtom("longrunning", store.Row.LongRunning), nil
	case "error":
		return codeAtom("error", func(c int) bool { return c >= 400 }), nil
	case "latency":
		return latencyAtom(t.op, t.dur.Seconds())
	case "code":
		m, err := codeMatcher(text, t.items)
		if err != nil {
			return nil, err
		}
		return codeAtom(desc, m), nil
	case "name":
		return nameAtom(desc, newValueMatcher(t.items).match), nil
	case "auditid":
		return auditIDAtom(desc, t.items), nil
	case "rule":
		return ruleAtom(desc, t.items), nil
	case "subject":
		return subjectNode(desc, t.items), nil
	case textKey:
		return textNode(t.items), nil
	case "since", "until":
		return timeTerm(text, t)
	case "stage", "level":
		if err := checkNames(text, t); err != nil {
			return nil, err
		}
	case "ip":
		m, err := ipMatcher(text, t.items)
		if err != nil {
			return nil, err
		}
		return fieldAtom(desc, termFields[t.key], m), nil
	}
	return fieldAtom(desc, termFields[t.key], newValueMatcher(t.items).match), nil
}

// subjectNode is subject:X — as:X, or user:X without impersonation — from
// the postings of both fields.
func subjectNode(desc string, items []item) node {
	m := newValueMatcher(items).match
	noImpersonation := newValueMatcher([]item{{val: ""}}).match
	impersonated := fieldAtom(desc, []store.Field{store.FieldImpersonated}, m)
	direct := &andNode{
		l: fieldAtom(desc, []store.Field{store.FieldUser}, m),
		r: fieldAtom(`as:""`, []store.Field{store.FieldImpersonated}, noImpersonation),
	}
	return &orNode{l: impersonated, r: direct}
}

func termString(t term) string {
	var b strings.Builder
	b.WriteString(t.key)
	b.WriteByte(':')
	for i, it := range t.items {
		if i > 0 {
			b.WriteByte(',')
		}
		if it.glob {
			b.WriteString(it.val)
		} else {
			fmt.Fprintf(&b, "%q", it.val)
		}
	}
	return b.String()
}

// fieldAtom keeps events whose value of any of fields matches.
func fieldAtom(desc string, fields []store.Field, match func(string) bool) node {
	return &atom{desc: desc, c: costPostings, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		var p parts
		for _, f := range fields {
			q := postingsParts(ec.st, cand, f, func(v string) int {
				if match(v) {
					return clsT
				}
				return clsF
			})
			if p.t == nil {
				p.t = q.t
			} else {
				p.t.Or(q.t)
			}
		}
		return p, nil
	}}
}

// flagAtom keeps events with a flag set.
func flagAtom(desc string, flag func(store.Row) bool) node {
	return &atom{desc: desc, c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		return parts{t: ec.st.Select(cand, flag)}, nil
	}}
}

// nameAtom keeps events whose objectRef.name matches; names are not
// indexed, so it scans the candidates, deciding each distinct name once.
func nameAtom(desc string, match func(string) bool) node {
	cols := []store.TextColumn{store.ColumnName}
	return &atom{desc: desc, c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		return parts{t: ec.st.SelectMatching(cand, cols, match)}, nil
	}}
}

// auditIDAtom keeps the events of the requests with the given auditIDs:
// exact ones from the store's request map, patterns by a scan.
func auditIDAtom(desc string, items []item) node {
	var globs []item
	var exact []string
	for _, it := range items {
		if it.glob {
			globs = append(globs, it)
		} else {
			exact = append(exact, it.val)
		}
	}
	m := newValueMatcher(globs)
	return &atom{desc: desc, c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		t := roaring.New()
		for _, id := range exact {
			if id == "" {
				t.Or(ec.st.Select(cand, func(r store.Row) bool { return len(r.AppendAuditID(nil)) == 0 }))
				continue
			}
			s := ec.st.WithAuditID(id)
			s.And(cand)
			t.Or(s)
		}
		if len(globs) > 0 {
			var buf []byte
			t.Or(ec.st.Select(cand, func(r store.Row) bool {
				buf = r.AppendAuditID(buf[:0])
				return m.match(string(buf))
			}))
		}
		return parts{t: t}, nil
	}}
}
