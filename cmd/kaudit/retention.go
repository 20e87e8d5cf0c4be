package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/pipeline"
)

// retentionFlags are --max-events and --max-memory of the long-running
// commands (watch, serve): how much the in-memory store keeps.
type retentionFlags struct {
	maxEvents int
	maxMemory string
}

// headlessKeep is what streaming jsonl output keeps by default: enough to
// recognise an event delivered twice (overlapping files, a retried webhook
// batch), no more.
const headlessKeep = 4 << 16

func (r *retentionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&r.maxEvents, "max-events", 0, "keep at most about this many events in memory, dropping the oldest 65536 at a time (0: no bound, but 262144 for headless jsonl output)")
	fl.StringVar(&r.maxMemory, "max-memory", "1GiB", "keep the in-memory index below about this size (e.g. 512MiB, 2GiB; 0: no bound), dropping the oldest events")
}

// apply sets cfg's bounds; streaming says the output is headless jsonl.
func (r *retentionFlags) apply(cfg *pipeline.Config, streaming bool) error {
	maxBytes, err := parseBytes(r.maxMemory)
	if err != nil {
		return usageError("--max-memory: %v", err)
	}
	cfg.MaxEvents, cfg.MaxBytes = r.maxEvents, maxBytes
	if streaming && r.maxEvents == 0 && !r.memorySet() {
		cfg.MaxEvents = headlessKeep
	}
	return nil
}

// memorySet: --max-memory was given other than its default.
func (r *retentionFlags) memorySet() bool { return r.maxMemory != "1GiB" }

// parseBytes reads a size such as 512MiB, 2GiB, 1.5G or 1000000 (bytes);
// "0" means no bound.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size (e.g. 512MiB, 2GiB, 0 for no bound)", s)
	}
	return int64(v * mult), nil
}
