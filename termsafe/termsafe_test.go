package termsafe

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kubectl/v1.32.0 (linux/amd64)", "kubectl/v1.32.0 (linux/amd64)"},
		{"ümlaut and 日本", "ümlaut and 日本"},
		{"clear\x1b[2Jscreen", `clear\x1b[2Jscreen`},
		{"bell\a and newline\n", `bell\x07 and newline\x0a`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"rtl\u202eexe.txt", `rtl\u202eexe.txt`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"del\x7f", `del\x7f`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
