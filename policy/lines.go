package policy

import (
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// lineIndex maps field paths in the API server's spelling
// (rules[3].resources[0].verbs) to lines of the YAML source. The API
// server's decoder goes through sigs.k8s.io/yaml, which keeps no
// positions, so kaudit parses the same bytes a second time into a node tree.
type lineIndex struct {
	root *yaml.Node // the document's top mapping; nil when the YAML does not parse
}

func indexLines(data []byte) *lineIndex {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return &lineIndex{}
	}
	return &lineIndex{root: doc.Content[0]}
}

var stepRE = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)
var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// line finds the line of path; for a path that does not exist completely it
// gives the line of the deepest part that does, and 0 when nothing matches.
func (l *lineIndex) line(path string) int {
	if l == nil || l.root == nil {
		return 0
	}
	n, best := l.root, 0
	for _, step := range strings.Split(path, ".") {
		m := stepRE.FindStringSubmatch(step)
		if m == nil {
			return best
		}
		if m[1] != "" {
			key, val := mapEntry(n, m[1])
			if key == nil {
				return best
			}
			best, n = key.Line, val
		}
		for _, ix := range indexRE.FindAllStringSubmatch(m[2], -1) {
			i, _ := strconv.Atoi(ix[1])
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return best
			}
			n = n.Content[i]
			best = n.Line
		}
	}
	return best
}

func mapEntry(n *yaml.Node, key string) (k, v *yaml.Node) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

var pathInMsgRE = regexp.MustCompile(`^\[?(rules\[\d+\][\w\[\]\.]*|omitStages(\[\d+\])?)`)

// lineOfMessage finds the field path a validation error starts with and
// returns its line (0 for other messages).
func (l *lineIndex) lineOfMessage(msg string) int {
	m := pathInMsgRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	return l.line(strings.TrimSuffix(m[1], "."))
}
