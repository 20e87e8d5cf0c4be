package units

import "testing"

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1000", 1000, true}, {"512B", 512, true}, {" 3 gib ", 3 << 30, true},
		{"64k", 64e3, true}, {"64KB", 64e3, true}, {"64Ki", 64 << 10, true}, {"64KiB", 64 << 10, true},
		{"10 MB", 10e6, true}, {"512MiB", 512 << 20, true}, {"512Mi", 512 << 20, true},
		{"1.5G", 1.5e9, true}, {"1.5GB", 1.5e9, true}, {"2GiB", 2 << 30, true}, {"1.5KiB", 1536, true},
		{"1T", 1e12, true}, {"1TiB", 1 << 40, true}, {"4EiB", 4 << 60, true},
		{"", 0, false}, {"GiB", 0, false}, {"-1", 0, false}, {"lots", 0, false}, {"1e30", 0, false},
		{"1XB", 0, false}, {"8EiB", 0, false}, {"100000EB", 0, false},
	} {
		got, err := ParseBytes(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"1GiB", "1.5 k", ",", "1,000MB", "9999999999999999999999EiB", ".", "1..2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && (n < 0 || n > 1<<62) {
			t.Fatalf("ParseBytes(%q) = %d", s, n)
		}
	})
}
