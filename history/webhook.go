package history

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The API server's admission annotations: which mutating webhook changed
// the request (Metadata level) and, from Request level, with which patch.
const (
	mutationPrefix = "mutation.webhook.admission.k8s.io/"
	patchPrefix    = "patch.webhook.admission.k8s.io/"
)

// webhooks reads those annotations into one line per webhook that
// changed the object: "webhook W (configuration C) changed /spec/x, /y".
// Annotation keys sort by round and index, the order the webhooks ran.
func webhooks(ann map[string]string) []string {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		if strings.HasPrefix(k, mutationPrefix) || strings.HasPrefix(k, patchPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	type hook struct {
		Configuration string `json:"configuration"`
		Webhook       string `json:"webhook"`
		Mutated       bool   `json:"mutated"`
		Patch         []struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		} `json:"patch"`
	}
	byName := map[string][]string{} // webhook -> changed paths
	var order []string
	for _, k := range keys {
		var h hook
		if json.Unmarshal([]byte(ann[k]), &h) != nil || h.Webhook == "" {
			continue
		}
		if strings.HasPrefix(k, mutationPrefix) && !h.Mutated {
			continue
		}
		name := fmt.Sprintf("webhook %s (configuration %s)", h.Webhook, h.Configuration)
		if _, seen := byName[name]; !seen {
			order = append(order, name)
			byName[name] = nil
		}
		for _, op := range h.Patch {
			byName[name] = append(byName[name], op.Op+" "+op.Path)
		}
	}
	out := make([]string, len(order))
	for i, name := range order {
		out[i] = name + " mutated it"
		if ps := byName[name]; len(ps) > 0 {
			out[i] = name + ": " + strings.Join(ps, ", ")
		}
	}
	return out
}
