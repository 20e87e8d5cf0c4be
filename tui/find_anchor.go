package tui

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// anchor is a regexp tried only where its literal prefix is: re anchored
// at the start of its input, and the bytes that can follow the prefix in a
// match. In audit JSON most occurrences of a prefix such as `"code":` are
// followed by a byte the rest cannot start with (200, not 40[13]): those
// cost a table look-up instead of a run of the regexp.
type anchor struct {
	prefix string
	re     *regexp.Regexp
	next   [256]bool // bytes that can follow the prefix in a match
	end    bool      // a match can end right after the prefix
}

// match reports whether b, which starts with the prefix, starts with a
// match.
func (a *anchor) match(b []byte) bool {
	n := len(a.prefix)
	if len(b) == n {
		return a.end && a.re.Match(b)
	}
	return a.next[b[n]] && a.re.Match(b)
}

// anchored is re's anchor, when every match of re starts with a literal
// and nothing before a match's first byte decides it (its program starts
// with a rune, not an assertion such as ^ or \b): then re matches b
// exactly when the anchored form matches b from some occurrence of the
// prefix on. Nil when not so.
func anchored(re *regexp.Regexp) *anchor {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil
	}
	prefix, _ := prog.Prefix() // "" unless the program starts with that literal
	if prefix == "" {
		return nil
	}
	at := &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{{Op: syntax.OpBeginText}, tree}}
	a := &anchor{prefix: prefix}
	if a.re, err = regexp.Compile(at.String()); err != nil {
		return nil
	}
	// Walk the prefix's instructions as Prefix does, then collect what
	// the instructions reachable from there (without input) can read.
	pc := skipNop(prog, uint32(prog.Start))
	for range utf8.RuneCountInString(prefix) {
		pc = skipNop(prog, prog.Inst[pc].Out)
	}
	a.follow(prog, pc, map[uint32]bool{})
	return a
}

// skipNop follows Nop and Capture instructions from pc.
func skipNop(prog *syntax.Prog, pc uint32) uint32 {
	for {
		switch prog.Inst[pc].Op {
		case syntax.InstNop, syntax.InstCapture:
			pc = prog.Inst[pc].Out
		default:
			return pc
		}
	}
}

// follow adds to next what instruction pc, and those it reaches without
// reading, can read; where it is unsure (folded case, any rune, a match,
// a rune beyond ASCII), it allows more, never less.
func (a *anchor) follow(prog *syntax.Prog, pc uint32, seen map[uint32]bool) {
	if seen[pc] {
		return
	}
	seen[pc] = true
	in := prog.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		a.follow(prog, in.Out, seen)
		a.follow(prog, in.Arg, seen)
	case syntax.InstNop, syntax.InstCapture, syntax.InstEmptyWidth:
		a.follow(prog, in.Out, seen)
	case syntax.InstMatch:
		a.end = true
		a.next = allBytes()
	case syntax.InstRune1, syntax.InstRune:
		if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
			a.next = allBytes()
			return
		}
		r := in.Rune
		if len(r) == 1 {
			r = []rune{r[0], r[0]}
		}
		for i := 0; i+1 < len(r); i += 2 {
			for c := max(r[i], 0); c <= min(r[i+1], 0x7f); c++ {
				a.next[c] = true
			}
			if r[i+1] >= 0x80 { // any UTF-8 lead byte
				for c := 0x80; c < 256; c++ {
					a.next[c] = true
				}
			}
		}
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		a.next = allBytes()
	}
}

func allBytes() [256]bool {
	var all [256]bool
	for i := range all {
		all[i] = true
	}
	return all
}
