package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listeningRE finds the URL serve prints when it listens.
var listeningRE = regexp.MustCompile(`listening on (https?://\S+)`)

// serveProc is a kaudit serve process.
type serveProc struct {
	cmd *exec.Cmd
	url string
}

// startServeProc starts bin serve args with stdout to out, and waits until
// it listens.
func startServeProc(t *testing.T, bin, out string, args ...string) *serveProc {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Stdout = f
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(os.Stderr, stderr) // warnings, if any
			return &serveProc{cmd: cmd, url: m[1]}
		}
		t.Log("serve: ", sc.Text())
	}
	t.Fatalf("serve exited before listening")
	return nil
}

// TestE2EServeKill9Spool: a sender POSTs batches as fast as it can,
// retrying until it gets a 200 (as the API server does); kaudit serve
// --spool is killed with SIGKILL right after a 200, three times, and
// restarted on the same port. Every event acknowledged with a 200 is in
// the union of its outputs.
func TestE2EServeKill9Spool(t *testing.T) {
	bin := kauditBin(t)
	spool, state, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	listen := "127.0.0.1:" + strconv.Itoa(freePort(t)) // the same port after each restart
	args := []string{"--listen", listen, "-o", "jsonl", "--spool", spool, "--state-dir", state}
	n := 0
	start := func() *serveProc {
		n++
		return startServeProc(t, bin, filepath.Join(outDir, fmt.Sprintf("out%d.jsonl", n)), args...)
	}
	srv := start()

	var mu sync.Mutex
	acked := map[string]bool{}
	ackedCh := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	refused := 0
	wg.Go(func() {
		cl := &http.Client{Timeout: 5 * time.Second}
		for b := 0; ; b++ {
			ids := make([]string, 10)
			items := make([]string, 10)
			for i := range ids {
				ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", b, i)
				items[i] = evLine(ids[i], "alice")
			}
			body := eventListOf(items...)
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := cl.Post("http://"+listen, "application/json", strings.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == 200 {
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
					select {
					case ackedCh <- struct{}{}:
					default:
					}
					break
				}
				mu.Lock()
				refused++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
	for range 3 {
		time.Sleep(time.Second)
		<-ackedCh // a 200 just went out
		srv.cmd.Process.Kill()
		srv.cmd.Wait()
		srv = start()
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	time.Sleep(time.Second) // the last spooled events reach the output
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	got := map[string]int{}
	lines := 0
	outs, _ := filepath.Glob(filepath.Join(outDir, "*.jsonl"))
	for _, p := range outs {
		for _, k := range readPrintedKeys(t, p) {
			got[k.id]++
			lines++
		}
	}
	missing := 0
	for id := range acked {
		if got[id] == 0 {
			missing++
		}
	}
	t.Logf("%d events acknowledged (%d attempts refused or failed while kaudit was down); printed %d lines, %d distinct, %d again after a kill -9", len(acked), refused, lines, len(got), lines-len(got))
	if missing > 0 {
		t.Fatalf("%d acknowledged events were never printed", missing)
	}
	if len(acked) < 100 {
		t.Errorf("only %d events acknowledged: the test sent too little", len(acked))
	}
}
