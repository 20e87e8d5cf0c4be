package rbac

import (
	"bytes"
	"encoding/json"

	"github.com/kaudit/kaudit/termsafe"
)

// reviewableYAML is marshalYAML for output a person reviews before applying
// it. The YAML library writes bidi overrides (U+202E), zero-width and line
// separator characters raw, in plain scalars where no escape can show
// them, so a subject name can read as something else than it is. An
// object holding such a rune is written as indented JSON instead — JSON is
// YAML, kubectl apply takes it in a YAML stream — whose double-quoted
// strings show each of them as a \u escape with the same meaning.
func reviewableYAML(obj any) ([]byte, error) {
	doc, err := marshalYAML(obj)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(termsafe.JSON(doc), doc) {
		return doc, nil
	}
	j, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(termsafe.JSON(j), '\n'), nil
}
