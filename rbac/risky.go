package rbac

import (
	"bytes"
	"fmt"
	"strings"
)

// Risky grants are opt-in. A role or binding that carries any warning — to
// anonymous or unauthenticated subjects, on secrets and the other
// sensitive resources, cluster-wide over namespaced resources, re-granting
// access revoked in the same log, escalating verbs, RBAC or webhook
// objects, system identities — is a decision a reviewer must make, not
// something to apply with the rest. Unless Options.IncludeRisky, Suggest
// moves such a pair (the role and its binding) to Suggestion.Withheld, and
// WriteYAML prints it commented out, after the objects, with its reasons.
// WriteJSON leaves it out (JSON has no comments); the command says so on
// stderr.

// withheldDenials takes the denials of a withheld pair out of Covered:
// the output no longer allows them.
func (s *Suggestion) withheldDenials(ds []Denial) {
	kept := s.Covered[:0]
	for _, d := range s.Covered {
		if !sameRequestIn(d, ds) {
			kept = append(kept, d)
		}
	}
	s.Covered = kept
}

func sameRequestIn(d Denial, ds []Denial) bool {
	for _, x := range ds {
		if x.Request == d.Request {
			return true
		}
	}
	return false
}

// WithheldNotes are one line per withheld object: what it is and why it
// was withheld, for stderr.
func (s *Suggestion) WithheldNotes() []string {
	var out []string
	for _, o := range s.Withheld {
		why := o.Warnings
		if len(why) == 0 {
			why = []string{"goes with a withheld " + o.RoleKind}
		}
		out = append(out, fmt.Sprintf("%s withheld (rerun with --include-risky to emit it): %s", o.Ref(), strings.Join(why, "; ")))
	}
	return out
}

// writeWithheld appends the withheld objects to a YAML stream, every line
// commented out, under a header that says why.
func (s *Suggestion) writeWithheld(b *bytes.Buffer) {
	if len(s.Withheld) == 0 {
		return
	}
	var inner bytes.Buffer
	_ = (&Suggestion{Objects: s.Withheld}).WriteYAML(&inner)
	body := inner.Bytes()
	// Drop the inner summary: the header below says what these are.
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 && bytes.HasPrefix(body, []byte("# ")) {
		body = body[i+2:]
	}
	b.WriteString("\n")
	comment(b, fmt.Sprintf("WITHHELD (%d objects): risky grants a reviewer must decide on, commented out;", len(s.Withheld)))
	comment(b, "rerun with --include-risky to emit them as objects. Each says why above it.")
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		b.WriteString("# ")
		b.Write(line)
	}
}
