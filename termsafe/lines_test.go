package termsafe

import (
	"bytes"
	"fmt"
	"testing"
)

func TestLines(t *testing.T) {
	var out bytes.Buffer
	l := NewLines(&out)
	fmt.Fprintf(l, "kaudit: warning: f:1: an object with keys %q\n", "\x1b]2;TITLE\a")
	fmt.Fprint(l, "half \u202e")
	fmt.Fprint(l, "line\x9b\nlast \x1b[2J")
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "kaudit: warning: f:1: an object with keys \"\\x1b]2;TITLE\\a\"\n" + `half \u202eline\x9b` + "\n" + `last \x1b[2J`
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}
