// Package policy checks Kubernetes audit policies and simulates them on
// recorded traffic. It decodes, validates and evaluates policies with the
// API server's own code (k8s.io/apiserver pkg/apis/audit and
// pkg/audit/policy, at the version of the API servers kaudit is tested
// against), and adds what the server does not say: line numbers, and
// findings about rules that are legal but probably wrong.
package policy

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
	auditpolicy "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/klog/v2"
)

// Policy is a loaded audit policy with what the loader noticed on the way.
type Policy struct {
	// The policy as the API server would use it (after lenient decoding,
	// if strict decoding failed).
	*auditinternal.Policy
	// Strict is the strict-decoding error the API server logs as a warning
	// ("Audit policy contains errors, falling back to lenient decoding: ...")
	// before it goes on with the leniently decoded policy; nil when clean.
	Strict error
	// StrictFields are the field paths strict decoding objected to, e.g.
	// `unknown field "rules[3].resources[0].verbs"`, one per problem.
	StrictFields []FieldProblem

	lines *lineIndex
}

// FieldProblem is one strict-decoding complaint about one field.
type FieldProblem struct {
	Kind string // "unknown field" or "duplicate field"
	Path string // e.g. rules[3].resources[0].verbs
	Line int    // 0 when the path could not be located
}

var quietKlog sync.Once

// Load decodes and validates an audit policy exactly as kube-apiserver
// does (policy.LoadPolicyFromBytes: strict decoding first, lenient decoding
// as a fallback with a warning, then validation). A non-nil error means
// the API server would refuse to start with this policy.
func Load(data []byte) (*Policy, error) {
	// The API server's loader reports the lenient fallback through klog;
	// kaudit reports it as a finding instead.
	quietKlog.Do(func() {
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	})
	lines := indexLines(data)
	p, err := auditpolicy.LoadPolicyFromBytes(data)
	if err != nil {
		return nil, &LoadError{Err: err, Line: lines.lineOfMessage(err.Error())}
	}
	out := &Policy{Policy: p, lines: lines}
	// The same strict decoder as LoadPolicyFromBytes, run again to keep
	// the error it only logs.
	strict := serializer.NewCodecFactory(audit.Scheme, serializer.EnableStrict).UniversalDecoder()
	if _, _, err := strict.Decode(data, nil, &auditinternal.Policy{}); err != nil && runtime.IsStrictDecodingError(err) {
		out.Strict = err
		if se, ok := runtime.AsStrictDecodingError(err); ok {
			for _, msg := range se.Errors() {
				out.StrictFields = append(out.StrictFields, fieldProblem(msg.Error(), lines))
			}
		}
	}
	return out, nil
}

// LoadError is a policy the API server would refuse.
type LoadError struct {
	Err  error
	Line int // best guess at the offending line; 0 when unknown
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

var (
	fieldRE   = regexp.MustCompile(`(unknown field|duplicate field) "([^"]+)"`)
	yamlDupRE = regexp.MustCompile(`line (\d+): key "([^"]*)" already set`)
)

func fieldProblem(msg string, lines *lineIndex) FieldProblem {
	// Duplicate keys are found by the YAML parser, which names a line
	// but not the path.
	if m := yamlDupRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return FieldProblem{Kind: "duplicate field", Path: m[2], Line: n}
	}
	m := fieldRE.FindStringSubmatch(msg)
	if m == nil {
		return FieldProblem{Kind: msg}
	}
	return FieldProblem{Kind: m[1], Path: m[2], Line: lines.line(m[2])}
}

// RuleLine is the line of rules[i] in the policy file (0 when unknown).
func (p *Policy) RuleLine(i int) int { return p.lines.line(fmt.Sprintf("rules[%d]", i)) }

// Line is the line of a field path such as rules[2].level (0 when unknown).
func (p *Policy) Line(path string) int { return p.lines.line(path) }
