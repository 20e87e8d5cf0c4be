package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/pipeline"
	"github.com/kaudit/kaudit/units"
)

// forwardFlags are --forward and its companions (watch, replay).
type forwardFlags struct {
	urls        []string
	cluster     string
	host        string
	apiKeyFile  string
	endpoint    string
	caFile      string
	maxInflight string
	concurrency int
	drain       time.Duration
	strip       bool
	tags        []string
}

func (ff *forwardFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&ff.urls, "forward", nil, "send every event upstream, at least once and in order: otlp+http://HOST:PORT, otlp+https://HOST:PORT or datadog://SITE (repeatable; each sink independent)")
	fl.StringVar(&ff.cluster, "cluster-name", "", "the cluster's name on forwarded events (k8s.cluster.name, kube_cluster_name)")
	fl.StringVar(&ff.host, "host-name", "", "this API server's name on forwarded events (host.name, hostname) and the source of what it reads (default: the machine's host name)")
	fl.StringVar(&ff.apiKeyFile, "api-key-file", "", "file holding the Datadog API key (default: $DD_API_KEY)")
	fl.StringVar(&ff.endpoint, "forward-endpoint", "", "URL datadog:// sinks post to instead of the site's intake (a proxy, a test intake)")
	fl.StringVar(&ff.caFile, "forward-ca-file", "", "PEM file of the CAs that https receivers' certificates must chain to (default: the system's)")
	fl.StringVar(&ff.maxInflight, "forward-max-inflight", "16MiB", "per sink, the most event bytes queued or in flight; reading for that sink pauses beyond it")
	fl.IntVar(&ff.concurrency, "forward-concurrency", forward.DefaultWorkers, "per sink, payloads in flight at once (positions are still committed in order; 1: the receiver sees file order)")
	fl.DurationVar(&ff.drain, "forward-drain", 10*time.Second, "on stop, how long to wait for in-flight events to be acknowledged")
	fl.BoolVar(&ff.strip, "forward-strip-response", false, "datadog: send events over 1 MB without their responseObject")
	fl.StringArrayVar(&ff.tags, "forward-tag", nil, "datadog: an extra tag (key:value; repeatable)")
}

// open starts one forwarder per --forward URL; nil if there is none.
func (ff *forwardFlags) open(stateDir string, det *liveDetectFlags) (*pipeline.Sinks, error) {
	if len(ff.urls) == 0 {
		return nil, nil
	}
	labels, err := det.labels()
	if err != nil {
		return nil, err
	}
	max, err := units.ParseBytes(ff.maxInflight)
	if err != nil || max <= 0 {
		return nil, usageError("--forward-max-inflight %q: want a size such as 16MiB", ff.maxInflight)
	}
	if ff.concurrency < 1 {
		return nil, usageError("--forward-concurrency %d: want 1 or more", ff.concurrency)
	}
	host := ff.host
	if host == "" {
		host, _ = os.Hostname()
	}
	key := os.Getenv("DD_API_KEY")
	if ff.apiKeyFile != "" {
		b, err := os.ReadFile(ff.apiKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %v", err)
		}
		key = strings.TrimSpace(string(b))
	}
	sinks, err := pipeline.OpenSinks(pipeline.SinkConfig{
		URLs: ff.urls, Identity: forward.Identity{Cluster: ff.cluster, Host: host}, APIKey: key, Endpoint: ff.endpoint,
		CAFile: ff.caFile, Tags: ff.tags, StripResponse: ff.strip, MaxInflight: max, Workers: ff.concurrency, Drain: ff.drain, StateDir: stateDir,
		Labels: labels,
	})
	var ue *pipeline.URLError
	if errors.As(err, &ue) {
		return nil, usageError("%v", err)
	}
	return sinks, err
}
