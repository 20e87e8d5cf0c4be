package query

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/itchyny/gojq"

	"github.com/kaudit/kaudit/audit"
)

// FuzzPrefilter holds the literal pre-filter to its promise: when gojq's
// first output on a document is truthy, the document's bytes may contain
// every required literal (pairs with any JSON spacing, escaped keys and
// values, duplicate keys, pretty printing).
func FuzzPrefilter(f *testing.F) {
	docs := []string{
		`{"spec":{"containers":[{"securityContext":{"privileged":true}}]}}`,
		"{\"spec\" : {\"containers\" :\n [ {\"securityContext\":{ \"privileged\"\t:\r\n true } } ] } }",
		`{"spec":{"containers":[{"securityContext":{"privileged":false,"privileged":true}}]}}`,
		`{"spec":{"containers":[{"securityContext":{"privil\u0065ged":true}}]}}`,
		`{"a":{"k":"v"},"b":"w"}`,
		`{"a":{"k":"\u0076"}}`,
		`{"a":{"k" :"v/x"}}`,
		`{"a":{"k":"v\/x"}}`,
		`{"k":true,"x":[{"k":false}]}`,
		`{"a":{"k":["v"]}}`,
		`{"a":[{"k":"v"}]}`,
		`{"user":{"username":"bob"},"responseStatus":{"code":403}}`,
		`{"a":{"k":403.0},"responseStatus":{"code":4.03e2}}`,
		`{"a":{"k":4030e-1},"responseStatus":{"code":40300E-2}}`,
		`{"a":{"k" : -0 },"x":[{"k":403}]}`,
		`{"a":{"k":200,"k":403},"b":"403"}`,
		`{"a":{"\u006b":403},"responseStatus":{"\u0063ode":403}}`,
		`{"a":{"k":"403"},"b":403}`,
		`{"a":{"k":1e300},"b":9007199254740993}`,
		`{"k":403.0,"a":{"k":4.03e2}}`,
		`{"k":4030e-1,"a":{"k":-0}}`,
		`{"k":0,"a":{"k":-1e0}}`,
	}
	for i, d := range docs {
		f.Add(d, "k", "v", uint8(i))
		f.Add(d, "privileged", "true", uint8(i))
		// Integer literals (which%4 == 3) in the forms .a[k] == N and
		// .[k] == N (which/4%6 == 1, 2), N = nums[which/24].
		for _, which := range []uint8{7, 31, 55, 79, 103, 11, 35, 59, 83} {
			f.Add(d, "k", "", which)
		}
	}
	nums := []string{"403", "403.0", "4.03e2", "0", "-1", "-0", "1e300", "9007199254740992", "200"}
	f.Fuzz(func(t *testing.T, doc, key, val string, which uint8) {
		raw := []byte(doc)
		v, err := DecodeJSON(raw)
		if err != nil {
			return
		}
		kq, _ := json.Marshal(key)
		vq, _ := json.Marshal(val)
		lit := string(vq)
		switch which % 4 {
		case 1:
			lit = "true"
		case 2:
			lit = "false"
		case 3:
			lit = nums[int(which/24)%len(nums)]
		}
		var src string
		switch which / 4 % 6 {
		case 0:
			src = fmt.Sprintf(`any(.spec.containers[]?; .securityContext[%s] == %s)`, kq, lit)
		case 1:
			src = fmt.Sprintf(`.a[%s] == %s`, kq, lit)
		case 2:
			src = fmt.Sprintf(`.[%s] == %s`, kq, lit)
		case 3:
			src = fmt.Sprintf(`.x[]?[%s] == %s`, kq, lit)
		case 4:
			src = fmt.Sprintf(`.a[%s] == %s or .b == %s`, kq, lit, vq)
		default:
			src = fmt.Sprintf(`%s == .a[]?[%s] and .a != null`, lit, kq)
		}
		q, err := gojq.Parse(src)
		if err != nil {
			return
		}
		code, err := gojq.Compile(q)
		if err != nil {
			return
		}
		skimmedToo(t, src, code, q, doc)
		out, ok := code.Run(v).Next()
		if _, isErr := out.(error); !ok || isErr || !truthy(out) {
			return
		}
		if lits := required(q); !mayContainAll(raw, lits) {
			var ls []string
			for _, l := range lits {
				ls = append(ls, l.String())
			}
			t.Fatalf("%s is truthy on %s, but the pre-filter rules it out (requires %q)", src, doc, ls)
		}
	})
}

// skimmedToo holds RawSkimmer's token path (literals found while
// skimming) to the same promise, on doc made an audit event: when gojq's
// first output on it is truthy, it is not left out.
func skimmedToo(t *testing.T, src string, code *gojq.Code, q *gojq.Query, doc string) {
	t.Helper()
	if len(doc) < 2 || doc[0] != '{' {
		return
	}
	sep := ","
	if strings.TrimSpace(doc[1:]) == "}" {
		sep = ""
	}
	event := []byte(`{"kind":"Event","auditID":"a","stage":"Panic"` + sep + doc[1:])
	lits := required(q)
	toks, ok := tokensOf(lits)
	if !ok {
		return
	}
	_, skimmed, found, escaped := audit.SkimTokens(event, toks)
	if !skimmed {
		return
	}
	if escaped != escapedChars(event) {
		t.Fatalf("%s: SkimTokens saw escapes for %x, escapedChars %x", event, escaped, escapedChars(event))
	}
	v, err := DecodeJSON(event)
	if err != nil {
		return
	}
	out, ok := code.Run(v).Next()
	if _, isErr := out.(error); !ok || isErr || !truthy(out) {
		return
	}
	if !mayContainFound(lits, found, escaped) {
		t.Fatalf("%s is truthy on %s, but skimming it rules it out (found %b of %d literals)", src, event, found, len(lits))
	}
}
