package query

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/store"
)

// The property: a filter keeps the same events whether it is planned
// (postings, columns, literal pre-filter, residual jq) or run as plain gojq
// on every event; quick terms keep the same events as a straightforward
// evaluation of each event and as their jq spelling.

// world is the fixture store with what the generators draw from.
type world struct {
	st      *store.Store
	inputs  []any // each event's JSON, decoded once, by ID
	entries []store.Entry
	pools   map[string][]string
	fast    bool // residues take the decoded inputs instead of decoding
}

func newWorld(t *testing.T) *world { return worldOf(t, loadStore(t, filterFixtures...)) }

func worldOf(t *testing.T, st *store.Store) *world {
	w := &world{st: st, pools: map[string][]string{}}
	rr := w.st.NewRawReader()
	for id := range uint32(w.st.Len()) {
		raw, err := rr.Raw(id)
		if err != nil {
			t.Fatal(err)
		}
		v, err := DecodeJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		w.inputs = append(w.inputs, v)
	}
	w.st.Each(w.st.All(), func(e *store.Entry) bool {
		w.entries = append(w.entries, *e)
		return true
	})
	for name, f := range map[string]store.Field{"user": store.FieldUser, "imp": store.FieldImpersonated, "group": store.FieldGroup,
		"verb": store.FieldVerb, "resource": store.FieldResource, "subresource": store.FieldSubresource, "apigroup": store.FieldAPIGroup,
		"ns": store.FieldNamespace, "ua": store.FieldUserAgent, "ip": store.FieldSourceIP, "decision": store.FieldDecision} {
		vals := w.st.Values(f)
		slices.Sort(vals) // deterministic draws
		w.pools[name] = append(vals, "nonexistent", "kube-system")
	}
	for _, e := range w.entries {
		w.pools["name"] = append(w.pools["name"], e.Object.Name)
		w.pools["auditid"] = append(w.pools["auditid"], e.AuditID)
		w.pools["latency"] = append(w.pools["latency"], strconv.FormatFloat(e.Latency.Seconds(), 'f', -1, 64))
	}
	return w
}

// plain runs program on every event of cand, as `jq 'select(F)'` would.
func (w *world) plain(t *testing.T, src string, cand *store.Set) []uint32 {
	t.Helper()
	code, err := CompileJQ(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	var out []uint32
	for _, id := range cand.ToArray() {
		v, ok := code.Run(w.inputs[id]).Next()
		if _, isErr := v.(error); ok && !isErr && truthy(v) {
			out = append(out, id)
		}
	}
	return out
}

func (w *world) planned(t *testing.T, f *Filter, cand *store.Set, noPrefilter bool) []uint32 {
	t.Helper()
	ec := &evalCtx{ctx: context.Background(), st: w.st, noPrefilter: noPrefilter}
	if w.fast {
		ec.input = func(id uint32, _ []byte) (any, error) { return w.inputs[id], nil }
	}
	s, _, err := f.eval(ec, cand)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return s.ToArray()
}

func TestPlanMatchesGojq(t *testing.T) {
	n := 300
	if s := os.Getenv("KAUDIT_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 100
	}
	newWorld(t).checkPlans(t, rand.New(rand.NewPCG(seed(), 14)), n)
}

// TestPlanMatchesGojqEdgeCases runs the property over events made to sit
// where the stored value and the JSON differ: absent versus empty fields,
// codes 0, absent, negative and above 65535, unknown stages, a v1alpha1
// group in apiVersion, escaped keys, null groups and source IPs.
func TestPlanMatchesGojqEdgeCases(t *testing.T) {
	st := store.New()
	appendLines(t, st, []byte(strings.Join(edgeEvents, "\n")+"\n"))
	if st.Len() != len(edgeEvents) {
		t.Fatalf("stored %d of %d edge events", st.Len(), len(edgeEvents))
	}
	n := 400
	if testing.Short() {
		n = 100
	}
	worldOf(t, st).checkPlans(t, rand.New(rand.NewPCG(seed(), 15)), n)
}

var edgeEvents = func() []string {
	const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%08d-0000-4000-8000-000000000000",`
	const times = `"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:0%s"}`
	bodies := []string{
		`"stage":"ResponseComplete","level":"Metadata","verb":"get","user":{"username":"alice","groups":["dev"]},"objectRef":{"resource":"pods","namespace":"","name":"","apiGroup":""},"responseStatus":{"code":0},`,
		`"stage":"ResponseComplete","level":"Metadata","verb":"","user":{"username":""},"objectRef":{"resource":"pods"},"responseStatus":{},`,
		`"stage":"Foo","level":"Bar","verb":"list","user":{},"sourceIPs":[null],"responseStatus":{"code":-5},`,
		`"stage":"ResponseComplete","level":"Request","verb":"create","user":{"username":"bob","groups":[null,"ops"]},"sourceIPs":[],"responseStatus":{"code":70000},`,
		`"stage":"ResponseStarted","verb":"watch","objectRef":{"resource":"deployments","apiVersion":"apps/v1","namespace":"prod"},"responseStatus":{"code":50},`,
		`"stage":"ResponseComplete","verb":"update","objectRef":{"resource":"deployments","apiGroup":"apps","apiVersion":"v1","namespace":"prod","name":"web"},"requestObject":{"apiVersion":"apps/v1","kind":"Deployment"},"responseStatus":{"code":200},`,
		`"stage":"ResponseComplete","verb":"create","objectRef":{"resource":"pods","namespace":"prod"},"requestObject":{"spec":{"containers":[{"securityContext":{"\u0070rivileged":true}}]}},"responseStatus":{"code":201},`,
		`"stage":"ResponseComplete","verb":"create","objectRef":{"resource":"pods","namespace":"a\/b"},"requestObject":{"spec":{"hostNetwork":true,"containers":[{"securityContext":{"privileged":false}}]}},"annotations":{"authorization.k8s.io/decision":"forbid"},"responseStatus":{"code":403},`,
		`"stage":"RequestReceived","level":"RequestResponse","verb":"get","userAgent":"","impersonatedUser":{"username":"bob"},"objectRef":null,"annotations":null,`,
		`"stage":"ResponseComplete","verb":"get","userAgent":"kubectl/v1.32","annotations":{"authorization.k8s.io/decision":""},"responseStatus":{"code":65535,"message":"forbidden"},`,
	}
	var out []string
	for i, b := range bodies {
		out = append(out, fmt.Sprintf(head, i)+b+fmt.Sprintf(times, strconv.Itoa(i)+".000001Z"))
	}
	return out
}()

func (w *world) checkPlans(t *testing.T, r *rand.Rand, n int) {
	cands := []*store.Set{w.st.All(), w.st.Requests()}
	pushed, rejected := 0, 0
	for i := range n {
		src := w.jqFilter(r, 3)
		if i%5 == 0 {
			src = "select(" + src + ")"
		}
		f, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%s): %v", src, err)
		}
		if !strings.Contains(f.Plan(), "jq(") {
			pushed++
		}
		cand := cands[i%2]
		want := w.plain(t, src, cand)
		rejected += w.checkRawPrefilter(t, f, want)
		w.fast = i%10 != 0
		for _, noPre := range []bool{false, true} {
			if noPre && !strings.Contains(f.Plan(), "bytes ⊇") {
				continue
			}
			if got := w.planned(t, f, cand, noPre); !slices.Equal(got, want) {
				t.Fatalf("filter %s (prefilter off: %v)\nplan %s\nkept %v\nwant %v", src, noPre, f.Plan(), got, want)
			}
		}
	}
	t.Logf("%d filters, %d answered without jq; the raw pre-filter ruled out %d events", n, pushed, rejected)
	if n >= 100 && rejected == 0 {
		t.Error("the raw pre-filter ruled out no event of any filter")
	}
}

// checkRawPrefilter fails t if f's raw pre-filter rules out an event of
// kept, and returns how many events of the store it rules out.
func (w *world) checkRawPrefilter(t *testing.T, f *Filter, kept []uint32) int {
	t.Helper()
	pre := f.RawPrefilter()
	if pre == nil {
		return 0
	}
	rr := w.st.NewRawReader()
	raw := func(id uint32) []byte {
		b, err := rr.Raw(id)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, id := range kept {
		if !pre(raw(id)) {
			t.Fatalf("filter %s keeps event %d, but its raw pre-filter rules it out:\n%s", f, id, raw(id))
		}
	}
	n := 0
	for id := range uint32(w.st.Len()) {
		if !pre(raw(id)) {
			n++
		}
	}
	return n
}

func TestQuickTermsMatchReferenceAndJQ(t *testing.T) {
	w := newWorld(t)
	r := rand.New(rand.NewPCG(seed(), 71))
	w.fast = true
	n := 200
	if s := os.Getenv("KAUDIT_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 80
	}
	for range n {
		terms := w.quickTerms(r)
		text := strings.Join(terms, " ")
		f, err := Compile(text)
		if err != nil {
			t.Fatalf("Compile(%s): %v", text, err)
		}
		if f.IsJQ() {
			t.Fatalf("%s compiled as jq", text)
		}
		parsed, _ := parseTerms(text)
		var want []uint32
		for _, e := range w.entries {
			if refTerms(parsed, &e) {
				want = append(want, e.ID)
			}
		}
		all := w.st.All()
		if got := w.planned(t, f, all, false); !slices.Equal(got, want) {
			t.Fatalf("quick %s\nplan %s\nkept %v\nwant %v", text, f.Plan(), got, want)
		}
		spelled, ok := spellTerms(parsed)
		if !ok {
			continue
		}
		if got := w.plain(t, spelled, all); !slices.Equal(got, want) {
			t.Fatalf("quick %s\njq %s\njq kept %v\nwant %v", text, spelled, got, want)
		}
		g, err := Compile(spelled)
		if err != nil {
			t.Fatalf("Compile(%s): %v", spelled, err)
		}
		if got := w.planned(t, g, all, false); !slices.Equal(got, want) {
			t.Fatalf("quick %s\njq %s\nplan %s\nkept %v\nwant %v", text, spelled, g.Plan(), got, want)
		}
	}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jqFilter generates a random jq filter of the given depth.
func (w *world) jqFilter(r *rand.Rand, depth int) string {
	if depth > 0 && r.IntN(3) > 0 {
		a, b := w.jqFilter(r, depth-1), w.jqFilter(r, depth-1)
		switch r.IntN(4) {
		case 0, 1:
			return "(" + a + " and " + b + ")"
		case 2:
			return "(" + a + " or " + b + ")"
		default:
			return "((" + a + ") | not)"
		}
	}
	p := w.pools
	prefix := func(s string) string { return s[:r.IntN(len(s)+1)] }
	op := pick(r, "==", "!=", "<", "<=", ">", ">=")
	switch r.IntN(30) {
	case 0:
		return fmt.Sprintf(".verb %s %s", pick(r, "==", "!="), q(pick(r, p["verb"]...)))
	case 1:
		return fmt.Sprintf("%s == .user.username", q(pick(r, p["user"]...)))
	case 2:
		return fmt.Sprintf(".impersonatedUser.username == %s", q(pick(r, p["imp"]...)))
	case 3:
		return fmt.Sprintf(".objectRef.namespace %s %s", op, pick(r, q(pick(r, p["ns"]...)), "null", `""`))
	case 4:
		return fmt.Sprintf("(.objectRef.namespace | startswith(%s))", q(prefix(pick(r, p["ns"]...))))
	case 5:
		return fmt.Sprintf("(.userAgent | test(%s%s))", q(regexp.QuoteMeta(prefix(pick(r, p["ua"]...)))), pick(r, "", `; "i"`, `; null`))
	case 6:
		return fmt.Sprintf("(.objectRef.resource | %s(%s))", pick(r, "endswith", "contains", "startswith"), q(prefix(pick(r, p["resource"]...))))
	case 7:
		return fmt.Sprintf(".responseStatus.code %s %s", op, pick(r, "0", "50", "101", "200", "201", "304", "400", "403", "404", "409", "500", "null", `"403"`, "403.5", "-1", "-5", "65535", "65536", "70000"))
	case 8:
		return fmt.Sprintf("%s %s .responseStatus.code", pick(r, "200", "403", "0"), op)
	case 9:
		return fmt.Sprintf(".stage %s %s", pick(r, "==", "!="), q(pick(r, stageNames[r.IntN(4)], "Foo", "")))
	case 10:
		return fmt.Sprintf(".level == %s", q(pick(r, levelNames[r.IntN(4)], "Bar")))
	case 11:
		return pick(r, "denied", "longrunning", "true", "false", "(denied | not)")
	case 12:
		return fmt.Sprintf("latency %s %s", op, pick(r, "0", "0.001", "0.05", "1", "100", pick(r, p["latency"]...)))
	case 13:
		return fmt.Sprintf(".objectRef.apiGroup %s %s", pick(r, "==", "!="), q(pick(r, p["apigroup"]...)))
	case 14:
		return fmt.Sprintf(".objectRef.name %s %s", pick(r, "==", "!=", ">"), q(pick(r, p["name"]...)))
	case 15:
		return fmt.Sprintf(".auditID == %s", q(pick(r, p["auditid"]...)))
	case 16:
		return fmt.Sprintf(`.annotations["authorization.k8s.io/decision"] == %s`, q(pick(r, p["decision"]...)))
	case 17:
		return fmt.Sprintf(".sourceIPs[0] == %s", q(pick(r, p["ip"]...)))
	case 18:
		return fmt.Sprintf("any(.user.groups[]?; . == %s)", q(pick(r, p["group"]...)))
	case 19:
		return fmt.Sprintf("(.verb | IN(%s, %s))", q(pick(r, p["verb"]...)), q(pick(r, p["verb"]...)))
	case 20:
		return fmt.Sprintf("(.stage | IN(%s))", q(pick(r, stageNames...)))
	case 21:
		return fmt.Sprintf("(.auditID | startswith(%s))", q(prefix(pick(r, p["auditid"]...))))
	case 22:
		return fmt.Sprintf("(.objectRef.subresource | %s)", pick(r, `test("^ex")`, `startswith("")`, `test("")`))
	}
	return pick(r,
		".requestObject.spec.containers[]?.securityContext.privileged == true",
		".requestObject.spec.hostNetwork == true",
		`(.requestURI | contains("watch"))`,
		"(.objectRef.resource | length) > 4",
		"(.user.groups | length) > 2",
		".x.y == 1",
		`(.objectRef.namespace | ascii_downcase) == "default"`,
		`.requestObject.kind == "Pod"`,
		"([.sourceIPs[]?] | length) > 0",
		`.objectRef[]? == "pods"`,
		`.user.groups[]? == "system:authenticated"`,
		`(.annotations | has("authorization.k8s.io/decision"))`,
		`(.responseStatus.message // "" | test("forbidden"))`,
		`error("boom")`,
		"empty",
		`(.verb, .user.username) == "bob"`,
		`(.user.username | ascii_downcase | startswith("system"))`,
		`.requestObject.metadata.name == "nginx"`,
		`.responseStatus.status == "Failure"`,
		`.user.extra.sessionName[0] != null`,
	)
}

// quickTerms generates random quick terms.
func (w *world) quickTerms(r *rand.Rand) []string {
	p := w.pools
	value := func(pool string) string {
		v := pick(r, p[pool]...)
		if strings.ContainsAny(v, " ,\"*") {
			return q(v)
		}
		switch r.IntN(5) {
		case 0:
			if len(v) > 2 {
				return v[:r.IntN(len(v)-1)] + "*"
			}
		case 1:
			if len(v) > 2 {
				return "*" + v[1+r.IntN(len(v)-1):]
			}
		case 2:
			if v == "" {
				return `""`
			}
		}
		if v == "" {
			return `""`
		}
		return v
	}
	var terms []string
	for range 1 + r.IntN(3) {
		var t string
		switch r.IntN(16) {
		case 0:
			t = "user:" + value("user")
		case 1:
			t = "user:" + value("imp") + "," + value("user")
		case 2:
			t = "group:" + value("group")
		case 3:
			t = "verb:" + value("verb") + "," + value("verb")
		case 4:
			t = "resource:" + value("resource")
		case 5:
			t = "ns:" + value("ns")
		case 6:
			t = "name:" + value("name")
		case 7:
			t = "code:" + pick(r, "200", "403", "4xx", "5xx", "200-299", "101,409", "300-403")
		case 8:
			t = "stage:" + pick(r, "ResponseComplete", "ResponseStarted", "Response*", "RequestReceived")
		case 9:
			t = "level:" + pick(r, "Metadata", "Request", "RequestResponse,None")
		case 10:
			t = "ua:" + value("ua")
		case 11:
			t = "ip:" + pick(r, value("ip"), "10.0.0.0/8", "172.16.0.0/12", "::1/128")
		case 12:
			t = "latency" + pick(r, ">", ">=", "<", "<=") + pick(r, "1ms", "50ms", "1s", "10s")
		case 13:
			t = pick(r, "denied", "longrunning", "error")
		case 14:
			t = "auditid:" + value("auditid")
		default:
			t = pick(r, "apigroup:", "decision:", "subresource:") + pick(r, "allow", "forbid", "apps", `""`, "rbac*", "exec")
		}
		if r.IntN(4) == 0 {
			t = "-" + t
		}
		terms = append(terms, t)
	}
	return terms
}

// refTerms evaluates quick terms on one event, plainly.
func refTerms(terms []term, e *store.Entry) bool {
	for _, t := range terms {
		if refTerm(t, e) == t.neg {
			return false
		}
	}
	return true
}

func refTerm(t term, e *store.Entry) bool {
	any := func(vals ...string) bool {
		for _, v := range vals {
			for _, it := range t.items {
				if refItem(t.key, it, v) {
					return true
				}
			}
		}
		return false
	}
	switch t.key {
	case "user":
		return any(e.User.Name, e.Impersonated.Name)
	case "group":
		return any(e.User.Groups...)
	case "verb":
		return any(e.Verb)
	case "resource":
		return any(e.Object.Resource)
	case "subresource":
		return any(e.Object.Subresource)
	case "apigroup":
		return any(e.Object.APIGroup)
	case "ns":
		return any(e.Object.Namespace)
	case "name":
		return any(e.Object.Name)
	case "decision":
		return any(e.Decision)
	case "stage":
		return any(e.Stage.String())
	case "level":
		return any(e.Level.String())
	case "ua":
		return any(e.UserAgent)
	case "ip":
		return any(e.SourceIP)
	case "auditid":
		return any(e.AuditID)
	case "code":
		return any(strconv.Itoa(int(e.Code)))
	case "denied":
		return e.Denied
	case "longrunning":
		return e.LongRunning
	case "error":
		return e.Code >= 400
	case "latency":
		d := e.Latency
		switch t.op {
		case ">":
			return d > t.dur
		case ">=":
			return d >= t.dur
		case "<":
			return d < t.dur
		}
		return d <= t.dur
	}
	panic("unknown key " + t.key)
}

func refItem(key string, it item, v string) bool {
	switch {
	case key == "code":
		c, _ := strconv.Atoi(v)
		if lo, hi, ok := strings.Cut(it.val, "-"); ok {
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			return c >= l && c <= h
		}
		if strings.HasSuffix(it.val, "xx") {
			return c/100 == int(it.val[0]-'0')
		}
		return v == it.val
	case key == "ip" && strings.Contains(it.val, "/"):
		p := netip.MustParsePrefix(it.val)
		a, err := netip.ParseAddr(v)
		return err == nil && p.Contains(a)
	case it.glob:
		return globRegexp(it.val).MatchString(v)
	}
	return v == it.val
}

func globRegexp(g string) *regexp.Regexp {
	parts := strings.Split(g, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
}

// spellTerms writes quick terms as jq, when every term has a spelling.
func spellTerms(terms []term) (string, bool) {
	paths := map[string]string{"verb": ".verb", "resource": ".objectRef.resource", "subresource": ".objectRef.subresource",
		"apigroup": apiGroupJQ, "ns": ".objectRef.namespace", "name": ".objectRef.name", "stage": ".stage",
		"level": ".level", "ua": ".userAgent", "ip": ".sourceIPs[0]", "auditid": ".auditID",
		"decision": `.annotations["authorization.k8s.io/decision"]`}
	var conj []string
	for _, t := range terms {
		var s string
		switch t.key {
		case "denied", "longrunning":
			s = t.key
		case "error":
			s = ".responseStatus.code >= 400"
		case "latency":
			s = "latency " + t.op + " " + strconv.FormatFloat(t.dur.Seconds(), 'f', -1, 64)
		default:
			var alts []string
			for _, it := range t.items {
				if t.key == "ip" && strings.Contains(it.val, "/") {
					return "", false
				}
				test := `(. // "") == ` + q(it.val)
				if !it.glob && it.val != "" && t.key != "user" && t.key != "group" && t.key != "code" && t.key != "apigroup" {
					alts = append(alts, paths[t.key]+" == "+q(it.val))
					continue
				}
				if it.glob {
					test = `(. // "") | test(` + q(globRegexp(it.val).String()) + `)`
				}
				switch t.key {
				case "user":
					alts = append(alts, "(.user.username | "+test+")", "(.impersonatedUser.username | "+test+")")
				case "group":
					alts = append(alts, "any(.user.groups[]?; "+test+")")
				case "code":
					lo, hi := codeSpan(it.val)
					alts = append(alts, fmt.Sprintf("(.responseStatus.code >= %d and .responseStatus.code <= %d)", lo, hi))
				default:
					alts = append(alts, "("+paths[t.key]+" | "+test+")")
				}
			}
			s = strings.Join(alts, " or ")
		}
		if t.neg {
			s = "((" + s + ") | not)"
		}
		conj = append(conj, "("+s+")")
	}
	out := strings.Join(conj, " and ")
	if strings.Contains(out, "$v") {
		out = `(.objectRef.apiVersion // "") as $v | ` + out
	}
	return out, true
}

// apiGroupJQ is the group as the store keeps it: objectRef.apiGroup, or
// the group part of a v1alpha1-style objectRef.apiVersion ("apps/v1").
const apiGroupJQ = `(.objectRef.apiGroup // "" | if . == "" then (($v | split("/")) as $p | if ($p | length) > 1 then $p[0] else "" end) else . end)`

func codeSpan(v string) (int, int) {
	if lo, hi, ok := strings.Cut(v, "-"); ok {
		l, _ := strconv.Atoi(lo)
		h, _ := strconv.Atoi(hi)
		return l, h
	}
	if strings.HasSuffix(v, "xx") {
		c := int(v[0]-'0') * 100
		return c, c + 99
	}
	c, _ := strconv.Atoi(v)
	return c, c
}

func seed() uint64 {
	if s := os.Getenv("KAUDIT_SEED"); s != "" {
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	return 3
}
