package webhook

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// gzipBomb is a few KiB of gzip that inflates to n zero bytes.
func gzipBomb(t testing.TB, n int) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zero))
		zw.Write(zero[:k])
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWebhookBombsShareABudget: 20 concurrent gzip bombs, each inflating
// to 8 times the per-request limit. Each is answered 413 (its own limit)
// or 429 (the shared budget is spent), the bytes held at once never exceed
// MaxBuffered, and every byte is given back: a good body is taken after.
func TestWebhookBombsShareABudget(t *testing.T) {
	const maxBody, maxBuffered = 4 << 20, 10 << 20
	w := &Receiver{MaxBody: maxBody, MaxBuffered: maxBuffered, MaxRequests: 32}
	startWebhook(t, w, &collector{})
	srv := httptest.NewServer(w)
	srv.Config.ErrorLog = discardLog()
	defer srv.Close()
	bomb := gzipBomb(t, 8*maxBody)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(bomb))
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			code := 0
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("answers %v; peak held %d of %d bytes", codes, w.buffered.peak, int64(maxBuffered))
	if codes[413]+codes[429] != 20 || codes[413] == 0 {
		t.Errorf("answers %v: want only 413 and 429", codes)
	}
	w.buffered.mu.Lock()
	peak, used := w.buffered.peak, w.buffered.used
	w.buffered.mu.Unlock()
	if peak > maxBuffered || used != 0 {
		t.Errorf("peak %d (limit %d), %d still held", peak, maxBuffered, used)
	}
	st := w.Stats()
	if st.Rejected[ReasonTooLarge] != int64(codes[413]) || st.Rejected[ReasonBuffersFull] != int64(codes[429]) {
		t.Errorf("stats %+v, answers %v", st, codes)
	}
	good := eventList(t, "v1", fixtureLines(t, "audit2rbac-demo-v1.jsonl", 3)...)
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(good)))
	if rec.Code != 200 {
		t.Errorf("a good body after the bombs: %d %s", rec.Code, rec.Body)
	}
}

// TestWebhookBudgetFull: while the shared budget is spent, a body gets
// 429 with Retry-After (the API server retries); once it is given back,
// the same body is taken.
func TestWebhookBudgetFull(t *testing.T) {
	w := &Receiver{MaxBody: 1 << 20, MaxBuffered: 3 << 20}
	startWebhook(t, w, &collector{})
	w.init()
	if !w.buffered.take(3<<20 - 1000) {
		t.Fatal("could not fill the budget")
	}
	body := eventList(t, "v1", fixtureLines(t, "audit2rbac-demo-v1.jsonl", 5)...)
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "--max-buffered") {
		t.Fatalf("budget spent: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	w.buffered.give(3<<20 - 1000)
	rec = httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
	if rec.Code != 200 {
		t.Fatalf("budget free: %d %s", rec.Code, rec.Body)
	}
	if w.buffered.used != 0 {
		t.Errorf("%d bytes still held after the answer", w.buffered.used)
	}
}
