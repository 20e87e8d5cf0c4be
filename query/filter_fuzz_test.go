package query

import (
	"context"
	"errors"
	"testing"
)

// FuzzCompile: any text compiles or fails with a *SyntaxError whose
// message renders; a compiled filter evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"user:alice verb:get,list -ns:kube-* name:\"a b\" code:4xx latency>1s denied",
		`.verb == "delete" and (.objectRef.namespace | startswith("prod-"))`,
		`select(.responseStatus.code >= 400) | not`,
		`any(.user.groups[]?; . == "system:masters") or (.verb | IN("get"))`,
		`.requestObject.spec.containers[]?.securityContext.privileged == true`,
		"code:400-499,5xx ip:10.0.0.0/8 stage:Response* -error",
		`user:"unterminated`, "-", ".a and and", "latency>>", "ns:,", "\x00", "(((",
	} {
		f.Add(s)
	}
	st := loadStore(f, "audit2rbac-demo-v1.jsonl")
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := Compile(text)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T %v", text, err, err)
			}
			_ = se.Error()
			return
		}
		_ = flt.Plan()
		if len(text) > 200 {
			return // long programs may loop for long; the plan is what matters
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { cancel() }()
		_, _ = flt.Eval(ctx, st, st.All())
	})
}
