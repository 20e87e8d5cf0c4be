package main

import (
	"bytes"
	"context"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/policy"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/tui"
)

// policyUI loads --policy for the terminal UI: P there simulates it over
// the filtered requests, as kaudit policy simulate does over files. No
// path: nil, and the UI offers no P.
func policyUI(path string) (tui.PolicyFunc, error) {
	if path == "" {
		return nil, nil
	}
	p, err := loadPolicyFile(path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, st *store.Store, requests *store.Set) (string, error) {
		sim, err := simulatorOf(ctx, st, requests)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		err = printSimulation(&b, sim.Simulate(p, nil, path, "", false), "table")
		return b.String(), err
	}, nil
}

// simulatorOf feeds every stored stage of requests to a simulator, decoding
// each event's original bytes again (the simulator sizes the bodies).
func simulatorOf(ctx context.Context, st *store.Store, requests *store.Set) (*policy.Simulator, error) {
	sim := policy.NewSimulator()
	var raw []byte
	var evs []audit.Event
	it := requests.Iterator()
	for n := 0; it.HasNext(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, id := range st.Stages(it.Next()) {
			var err error
			if raw, err = st.Raw(id, raw[:0]); err != nil {
				continue // dropped by retention, or its file is gone: not simulated
			}
			if evs, err = audit.Decode(raw, evs[:0]); err != nil {
				continue
			}
			for i := range evs {
				sim.Add(&evs[i])
			}
		}
	}
	return sim, nil
}
