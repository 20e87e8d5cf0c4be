package query

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// valueMatcher matches a string against a term's comma-separated values.
type valueMatcher struct {
	exact map[string]bool
	globs [][]string // each pattern split at its *s
}

func newValueMatcher(items []item) *valueMatcher {
	m := &valueMatcher{exact: map[string]bool{}}
	for _, it := range items {
		if it.glob {
			m.globs = append(m.globs, strings.Split(it.val, "*"))
		} else {
			m.exact[it.val] = true
		}
	}
	return m
}

func (m *valueMatcher) match(s string) bool {
	if m.exact[s] {
		return true
	}
	for _, g := range m.globs {
		if globMatch(g, s) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern split at its *s: the first part is
// a prefix, the last a suffix, the others appear in order between them.
func globMatch(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// codeMatcher reads code values: 403, 4xx, 400-499.
func codeMatcher(text string, items []item) (func(int) bool, error) {
	type span struct{ lo, hi int }
	var spans []span
	for _, it := range items {
		v := strings.ToLower(it.val)
		var sp span
		var ok bool
		switch {
		case len(v) == 3 && v[1:] == "xx" && v[0] >= '1' && v[0] <= '9':
			c := int(v[0]-'0') * 100
			sp, ok = span{c, c + 99}, true
		case strings.Contains(v, "-"):
			lo, hi, _ := strings.Cut(v, "-")
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			sp, ok = span{l, h}, err1 == nil && err2 == nil && l >= 100 && h <= 999 && l <= h
		default:
			c, err := strconv.Atoi(v)
			sp, ok = span{c, c}, err == nil && c >= 100 && c <= 999
		}
		if !ok || it.glob {
			return nil, syntaxErr(text, it.pos, fmt.Sprintf("bad status code %q: want a code (403), a class (4xx) or a range (400-499)", it.val), nil)
		}
		spans = append(spans, sp)
	}
	return func(c int) bool {
		for _, sp := range spans {
			if c >= sp.lo && c <= sp.hi {
				return true
			}
		}
		return false
	}, nil
}

// ipMatcher reads ip values: addresses, globs, and CIDR prefixes
// (10.0.0.0/8).
func ipMatcher(text string, items []item) (func(string) bool, error) {
	var plain []item
	var prefixes []netip.Prefix
	for _, it := range items {
		if it.glob || !strings.Contains(it.val, "/") {
			plain = append(plain, it)
			continue
		}
		p, err := netip.ParsePrefix(it.val)
		if err != nil {
			return nil, syntaxErr(text, it.pos, fmt.Sprintf("bad address prefix %q: want CIDR notation such as 10.0.0.0/8", it.val), nil)
		}
		prefixes = append(prefixes, p.Masked())
	}
	m := newValueMatcher(plain)
	return func(s string) bool {
		if m.match(s) {
			return true
		}
		if len(prefixes) == 0 {
			return false
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}, nil
}

var (
	stageNames = []string{"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}
	levelNames = []string{"None", "Metadata", "Request", "RequestResponse"}
)

// checkNames rejects stage and level values that can never match.
func checkNames(text string, t term) error {
	valid := stageNames
	ok := func(v string) bool { return audit.ParseStage(v) != audit.StageUnknown }
	if t.key == "level" {
		valid = levelNames
		ok = func(v string) bool { return audit.ParseLevel(v) != audit.LevelUnknown }
	}
	for _, it := range t.items {
		if !it.glob && it.val != "" && !ok(it.val) {
			return syntaxErr(text, it.pos, fmt.Sprintf("unknown %s %q (want one of %s)", t.key, it.val, strings.Join(valid, ", ")), nil)
		}
	}
	return nil
}

// codeAtom keeps events whose responseStatus.code satisfies match (events
// without a code never do).
func codeAtom(desc string, match func(int) bool) node {
	return codeNode(desc, func(c int) int {
		if match(c) {
			return clsT
		}
		return clsF
	}, nil, nil)
}

// codeNode answers a predicate on responseStatus.code from the code
// postings. Their keys are exact codes, except "" which holds events
// stored with code 0 (no code, 0, or a code outside 0–65535); those are
// sorted by bucket from the code column, when given (else they are
// falsy).
func codeNode(desc string, key func(code int) int, bucket func(r store.Row) int, verify node) node {
	return &atom{desc: desc, c: costPostings, verify: verify, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		const bucketCls = numCls
		sets := ec.st.PartitionValues(store.FieldCode, numCls+1, func(v string) int {
			if v == "" {
				if bucket == nil {
					return -1
				}
				return bucketCls
			}
			c, err := strconv.Atoi(v)
			if err != nil {
				if verify == nil {
					return -1
				}
				return clsUT // not a number: let jq decide
			}
			if k := key(c); k != clsF {
				return k
			}
			return -1
		})
		for _, s := range sets {
			s.And(cand)
		}
		p := partsOf(sets[:numCls])
		if bucket != nil && !sets[bucketCls].IsEmpty() {
			q := scanParts(ec.st, sets[bucketCls], bucket)
			p.t.Or(q.t)
			p.x.Or(q.x)
			p.u.Or(q.u)
			p.uMayBeTrue = p.uMayBeTrue || q.uMayBeTrue
		}
		return p, nil
	}}
}

// timeAtom keeps events whose stageTimestamp is in [since, until).
func timeAtom(since, until time.Time) node {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	var desc []string
	if !since.IsZero() {
		lo = since.UnixNano()
		desc = append(desc, "since "+since.UTC().Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		hi = until.UnixNano()
		desc = append(desc, "until "+until.UTC().Format(time.RFC3339Nano))
	}
	return &atom{desc: strings.Join(desc, " "), c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		return parts{t: ec.st.Select(cand, func(r store.Row) bool {
			ts := r.StageTime()
			return ts != 0 && ts >= lo && ts < hi
		})}, nil
	}}
}
