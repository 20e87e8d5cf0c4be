package query

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseTerms(t *testing.T) {
	tests := []struct {
		in   string
		want string // terms as "[-]key:pos=value|pos=value*" joined by spaces
	}{
		{"user:alice", "user:5=alice"},
		{"  user:alice   verb:get  ", "user:7=alice verb:20=get"},
		{"verb:delete,patch", "verb:5=delete|12=patch"},
		{"-user:system:*", "-user:6=system:*"},
		{"name:web-*", "name:5=web-*"},
		{"name:*web*", "name:5=*web*"},
		{`ns:"my ns"`, "ns:3=my ns"},
		{`name:"a*b"`, "name:5=a*b"},
		{`user:"a,b",c`, "user:5=a,b|11=c"},
		{`ua:"say \"hi\" \\o/"`, `ua:3=say "hi" \o/`},
		{`ns:""`, "ns:3="},
		{"code:403 code:4xx code:400-499", "code:5=403 code:14=4xx code:23=400-499"},
		{"latency>1s latency<=50ms -latency>=2m latency<1.5s", "latency>1s latency<=50ms -latency>=2m0s latency<1.5s"},
		{"denied -longrunning error", "denied -longrunning error"},
		{"user:alice\tverb:get\nns:x", "user:5=alice verb:16=get ns:23=x"},
		{"ip:10.0.0.0/8", "ip:3=10.0.0.0/8"},
		{"auditid:0f3d*", "auditid:8=0f3d*"},
	}
	for _, tt := range tests {
		terms, err := parseTerms(tt.in)
		if err != nil {
			t.Errorf("parseTerms(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, term := range terms {
			var b strings.Builder
			if term.neg {
				b.WriteByte('-')
			}
			b.WriteString(term.key)
			if term.op != "" {
				fmt.Fprintf(&b, "%s%v", term.op, term.dur)
			}
			for i, it := range term.items {
				if i == 0 {
					b.WriteByte(':')
				} else {
					b.WriteByte('|')
				}
				fmt.Fprintf(&b, "%d=%s", it.pos, it.val)
				if it.glob != strings.Contains(it.val, "*") {
					b.WriteString("(literal)")
				}
			}
			got = append(got, b.String())
		}
		want := tt.want
		want = strings.ReplaceAll(want, "a*b", "a*b(literal)")
		if g := strings.Join(got, " "); g != want {
			t.Errorf("parseTerms(%q)\n got %s\nwant %s", tt.in, g, want)
		}
	}
}

func TestLatencyDurations(t *testing.T) {
	terms, err := parseTerms("latency>250ms")
	if err != nil || terms[0].dur != 250*time.Millisecond || terms[0].op != ">" {
		t.Fatalf("%v %+v", err, terms)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"web-*", "web-1", true},
		{"web-*", "web-", true},
		{"web-*", "web", false},
		{"*-1", "web-1", true},
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "acb", false},
		{"a*a", "a", false},
		{"system:*", "system:serviceaccount:kube-system:x", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tt := range tests {
		if got := globMatch(strings.Split(tt.pattern, "*"), tt.s); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCodeMatcher(t *testing.T) {
	m, err := codeMatcher("", []item{{val: "403"}, {val: "5XX"}, {val: "300-304"}})
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[int]bool{403: true, 404: false, 500: true, 599: true, 600: false, 300: true, 304: true, 305: false, 0: false} {
		if m(c) != want {
			t.Errorf("code %d: %v, want %v", c, !want, want)
		}
	}
}

func TestIsJQ(t *testing.T) {
	tests := map[string]bool{
		`.verb == "get"`:                 true,
		`select(.verb == "get")`:         true,
		`(.verb == "get")`:               true,
		`not`:                            true,
		`  .user`:                        true,
		`any(.user.groups[]?; . == "a")`: true,
		`denied and longrunning`:         true, // not quick terms, but jq
		`denied`:                         false,
		`error`:                          false,
		`user:alice`:                     false,
		`-user:alice`:                    false,
		`latency>1s`:                     false,
		`latency > 1`:                    true, // jq: latency in seconds
	}
	for text, want := range tests {
		f, err := Compile(text)
		if err != nil {
			t.Errorf("Compile(%q): %v", text, err)
			continue
		}
		if f.IsJQ() != want {
			t.Errorf("Compile(%q).IsJQ() = %v, want %v", text, f.IsJQ(), want)
		}
	}
}
