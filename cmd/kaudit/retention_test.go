package main

import (
	"testing"

	"github.com/kaudit/kaudit/pipeline"
	"github.com/spf13/cobra"
)

// TestRetentionDefaults: headless jsonl keeps headlessKeep events unless
// a bound was given, even one equal to the default.
func TestRetentionDefaults(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		streaming bool
		events    int
		bytes     int64
	}{
		{nil, true, headlessKeep, 1 << 30},
		{nil, false, 0, 1 << 30},
		{[]string{"--max-memory", "1GiB"}, true, 0, 1 << 30},
		{[]string{"--max-memory", "64KB"}, true, 0, 64000},
		{[]string{"--max-memory", "64KiB"}, false, 0, 64 << 10},
		{[]string{"--max-events", "10"}, true, 10, 1 << 30},
	} {
		var r retentionFlags
		cmd := &cobra.Command{Use: "x"}
		r.register(cmd)
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatal(err)
		}
		var cfg pipeline.Config
		if err := r.apply(&cfg, tc.streaming); err != nil {
			t.Fatal(err)
		}
		if cfg.MaxEvents != tc.events || cfg.MaxBytes != tc.bytes {
			t.Errorf("%q streaming=%v: maxEvents %d, maxBytes %d; want %d, %d", tc.args, tc.streaming, cfg.MaxEvents, cfg.MaxBytes, tc.events, tc.bytes)
		}
	}
	var r retentionFlags
	cmd := &cobra.Command{Use: "x"}
	r.register(cmd)
	if err := cmd.ParseFlags([]string{"--max-memory", "lots"}); err != nil {
		t.Fatal(err)
	}
	if err := r.apply(&pipeline.Config{}, false); err == nil {
		t.Error("--max-memory lots accepted")
	}
}
