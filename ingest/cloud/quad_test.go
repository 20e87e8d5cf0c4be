package cloud

import (
	"bytes"
	"testing"
)

// TestBrokenLinesLinear: broken JSON lines are not each re-read to the end
// of the input: 10000 lines cut inside a string are 10000 problems; 10000
// lines that open values never closed are one (the rest is skipped, said
// once), found in one pass.
func TestBrokenLinesLinear(t *testing.T) {
	data := append(bytes.Repeat([]byte(`{"records":[{"category":"kube-audit","properties":{"log":"{\"kind\"`+"\n"), 10000), bytes.Repeat([]byte(`{"a":[`+"\n"), 3000)...)
	res := Decode(data)
	if got := res.Counts[Truncated] + res.Counts[Malformed]; got != 10001 {
		t.Fatalf("%d problems, want 10001; last: %v", got, res.Problems[len(res.Problems)-3:])
	}
}
