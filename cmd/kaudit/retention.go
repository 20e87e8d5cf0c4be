package main

import (
	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/units"
)

// retentionFlags are --max-events and --max-memory of the long-running
// commands (watch, serve): how much the in-memory store keeps.
type retentionFlags struct {
	maxEvents int
	maxMemory string
	cmd       *cobra.Command // to tell a default from a value given
}

// headlessKeep is what streaming jsonl output keeps by default: enough to
// recognise an event delivered twice (overlapping files, a retried webhook
// batch), no more.
const headlessKeep = 4 << 16

func (r *retentionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	r.cmd = cmd
	fl.IntVar(&r.maxEvents, "max-events", 0, "keep at most about this many events in memory, dropping the oldest 65536 at a time (0: no bound, but 262144 for headless jsonl output)")
	fl.StringVar(&r.maxMemory, "max-memory", "1GiB", "keep the in-memory index below about this size, dropping the oldest events; the process may use about twice it plus 256MiB (e.g. 512MiB, 2GiB, 1.5GB: Ki/KiB are 1024, K/KB 1000; 0: no bound)")
}

// apply sets cfg's bounds; streaming says the output is headless jsonl.
func (r *retentionFlags) apply(cfg *pipeline.Config, streaming bool) error {
	maxBytes, err := units.ParseBytes(r.maxMemory)
	if err != nil {
		return usageError("--max-memory: %v", err)
	}
	cfg.MaxEvents, cfg.MaxBytes = r.maxEvents, maxBytes
	if streaming && r.maxEvents == 0 && !r.memorySet() {
		cfg.MaxEvents = headlessKeep
	}
	return nil
}

// memorySet: --max-memory was given, whatever its value.
func (r *retentionFlags) memorySet() bool { return r.cmd != nil && r.cmd.Flags().Changed("max-memory") }
