package ingest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/kaudit/kaudit/ingest/cloud"
)

// exportExts are the extensions (before an optional .gz) of the files a
// directory's exports come in: gcloud and Event Hubs JSON, JSON lines,
// `aws logs tail` output saved as text, S3 exports (.gz alone), and
// Firehose objects, which have no extension at all.
var exportExts = []string{".json", ".jsonl", ".ndjson", ".log", ".txt", ""}

// auditHead finds an audit event or EventList near the start of a file.
var auditHead = regexp.MustCompile(`"auditID"\s*:|"kind"\s*:\s*"Event(List)?"`)

// exportFiles lists the files of dir, besides its audit logs (skip), that
// an operator's exports come in, by name; each is sniffed: a cloud export
// or audit events are read, anything else comes back as a Skipped problem
// (counted and reported, not an error), so that a README or a manifest
// beside the exports does not fail the replay.
func exportFiles(dir string, skip []string) []input {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []input
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(strings.TrimSuffix(name, ".gz"))
		if strings.HasPrefix(name, ".") || slices.Contains(skip, name) || !slices.Contains(exportExts, ext) && !strings.HasSuffix(name, ".gz") {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if _, ok := parseLogName(name); ok {
			continue // an audit log whose plain copy is read instead (lumberjack mid-compression)
		}
		if why := notAuditData(path); why != "" {
			out = append(out, input{problem: &Problem{Path: path, Kind: Skipped, Msg: "not audit data (" + why + "); skipped"}})
			continue
		}
		out = append(out, input{path: path})
	}
	return out
}

// notAuditData sniffs the start of a file: "" when it is a cloud export
// or holds audit events, else why not.
func notAuditData(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "cannot read: " + errText(err)
	}
	defer f.Close()
	var rd io.Reader = f
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return "not a readable gzip file"
		}
		rd = zr
	}
	head := make([]byte, binarySniff)
	n, _ := io.ReadFull(rd, head)
	head = head[:n]
	switch {
	case n == 0:
		return "empty"
	case isBinary(head):
		return "binary"
	case cloud.Envelope(head) || auditHead.Match(head):
		return ""
	case cloud.Sniff(head):
		return "klog text: a component's log"
	case bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) || bytes.HasPrefix(bytes.TrimSpace(head), []byte("[")):
		return "JSON that is neither audit events nor a cloud export"
	}
	return "neither audit events nor a cloud export"
}
