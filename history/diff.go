package history

import (
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/aymanbagabas/go-udiff/myers"
	"sigs.k8s.io/yaml"
)

// noise are the metadata fields every write changes; Diff hides them
// unless asked.
var noise = []string{"managedFields", "resourceVersion", "generation"}

// YAML renders obj for reading and diffing (keys sorted), without the
// noise fields unless showNoise.
func YAML(obj map[string]any, showNoise bool) string {
	if obj == nil {
		return ""
	}
	if !showNoise {
		if md, ok := obj["metadata"].(map[string]any); ok {
			obj = shallowCopy(obj)
			md = shallowCopy(md)
			for _, k := range noise {
				delete(md, k)
			}
			obj["metadata"] = md
		}
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return string(b)
}

// Diff is the unified diff from prev to next (prev nil: a creation),
// labelled, "" when they render the same. Edits are whole lines (Myers).
func Diff(prevLabel, nextLabel string, prev, next map[string]any, showNoise bool) string {
	a, b := YAML(prev, showNoise), YAML(next, showNoise)
	if a == b {
		return ""
	}
	//lint:ignore SA1019 whole-line Myers edits read best in a revision diff; udiff.Strings edits characters
	d, err := udiff.ToUnified(prevLabel, nextLabel, a, myers.ComputeEdits(a, b), udiff.DefaultContextLines)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(d, "\n")
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
