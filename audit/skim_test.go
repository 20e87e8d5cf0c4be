package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/internal/testcpu"
)

// sameAsDecode fails t unless Skim(doc) agrees with Decode: ok exactly when
// Decode makes one event of the whole document, with no error, valid
// UTF-8 and nothing Check reports, and then the same StageTime.
func sameAsDecode(t *testing.T, doc []byte) {
	t.Helper()
	st, ok := Skim(doc)
	evs, err := decodeFast(doc, nil)
	want := err == nil && len(evs) == 1 && len(evs[0].Raw) == len(doc) && !evs[0].BadUTF8 && evs[0].Check() == ""
	if ok != want {
		why := "no event"
		if len(evs) > 0 {
			why = "check " + evs[0].Check()
		}
		t.Fatalf("doc %q: Skim says %v, Decode: %d events, error %v, %s", doc, ok, len(evs), err, why)
	}
	if ok && !st.Equal(evs[0].StageTime) {
		t.Fatalf("doc %q: Skim's time %v, Decode's %v", doc, st, evs[0].StageTime)
	}
	if tst, tok, _, _ := SkimTokens(doc, fuzzTokens); tok != ok || !tst.Equal(st) {
		t.Fatalf("doc %q: SkimTokens says %v %v, Skim %v %v", doc, tok, tst, ok, st)
	}
}

// fuzzTokens are looked for while fuzzing, which must not change what
// Skim says.
var fuzzTokens = func() *Tokens {
	t := &Tokens{}
	t.AddPair("username", "bob")
	t.AddPair("code", int64(403))
	t.AddPair("privileged", true)
	t.AddPair("k", false)
	t.AddString("kube-system")
	t.AddString("user")
	return t
}()

// skimCases are documents where Skim could part ways with Decode.
var skimCases = []string{
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","stageTimestamp":"2024-01-02T03:04:05Z"}`,
	`{"kind":"Event","auditID":"a","stage":"ResponseComplete"}`,
	`{"auditID":"a","stage":"ResponseComplete"}`,                      // a bare item
	`{"auditID":"a","stage":"Bogus"}`,                                 // unknown stage
	`{"auditID":"","stage":"ResponseComplete","kind":"Event"}`,        // no auditID
	`{"auditID":"a","auditID":null,"stage":"Panic","kind":"Event"}`,   // null keeps "a"
	`{"auditID":"a","auditID":"","stage":"Panic","kind":"Event"}`,     // the last wins
	`{"AUDITID":"a","Stage":"Panic","KIND":"Event"}`,                  // case folding
	`{"\u0061uditID":"a","stage":"Panic","kind":"Event"}`,             // an escaped key
	`{"audıtID":"a","stage":"Panic","kind":"Event"}`,                  // not a fold
	"{\"\u212aind\":\"Event\",\"auditID\":\"a\",\"stage\":\"Panic\"}", // Kelvin sign
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":403}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":-403}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":4.03e2}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":-0}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":99}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":100}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":599}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":600}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":403,"code":700}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":2147483648}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":{"code":"403"}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","responseStatus":null}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","stageTimestamp":"9999-12-31T00:00:00Z"}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","timestamp":"2024-01-02T03:04:05Z"}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","metadata":{"creationTimestamp":"2024-01-02T03:04:05Z"}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","metadata":{"creationTimestamp":"bogus"}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestReceivedTimestamp":"bogus"}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","user":{"username":"u","groups":["a",null],"extra":{"x":[1]}}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","user":{"groups":[1]}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","user":[]}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","sourceIPs":["1.2.3.4",null]}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","sourceIPs":"1.2.3.4"}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","annotations":{"a":"b","c":null}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","annotations":{"a":1}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","objectRef":{"name":1}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","objectRef":{"uid":1}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","items":[1,{"kind":2}]}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","items":3}`,
	`{"kind":"EventList","items":[{"auditID":"a","stage":"Panic"}]}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"]}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":01}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":1.}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":[1,]}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":"\x"}}`,
	`{"kind":"Event","auditID":"a","stage":"Panic","requestObject":{"a":"\u12G4"}}`,
	"{\"kind\":\"Event\",\"auditID\":\"a\",\"stage\":\"Panic\",\"verb\":\"caf\xc3\xa9\"}",
	"{\"kind\":\"Event\",\"auditID\":\"a\",\"stage\":\"Panic\",\"verb\":\"caf\xe9\"}",
	"{\"kind\":\"Event\",\"auditID\":\"a\",\"stage\":\"Panic\",\"verb\":\"a\tb\"}",
	" \t{\"kind\" : \"Event\" ,\n\"auditID\":\"a\",\"stage\":\"Panic\" } \r\n",
	`{"kind":"Event","auditID":"a","stage":"Panic"} x`,
	`{"kind":"Event","auditID":"a","stage":"Panic"`,
	`{"kind":"Event","auditID":"a","stage":"Panic","x":{"a":[{}]}}`,
	`null`, `[]`, `{}`, ``, `{"kind":"Pod"}`,
	`{"kind":"Event","apiVersion":"v1","auditID":"a","stage":"Panic"}`,
	`{"apiVersion":"audit.k8s.io/v1beta1","auditID":"a","stage":"Panic"}`,
}

func TestSkimMatchesDecode(t *testing.T) {
	docs := fixtureDocs(t, 1<<30)
	docs = append(docs, generated(2000)...)
	for _, c := range skimCases {
		docs = append(docs, []byte(c))
	}
	for _, tc := range edgeCases {
		docs = append(docs, []byte(tc.doc))
	}
	deep := bytes.Repeat([]byte("["), maxDepth) // 10000 levels with the top object: too deep
	docs = append(docs, append(append([]byte(`{"kind":"Event","auditID":"a","stage":"Panic","x":`), deep...), bytes.Repeat([]byte("]"), maxDepth)...))
	docs = append(docs, append(append([]byte(`{"kind":"Event","auditID":"a","stage":"Panic","x":`), deep[1:]...), bytes.Repeat([]byte("]"), maxDepth-1)...))
	ok := 0
	for _, doc := range docs {
		sameAsDecode(t, doc)
		if _, k := Skim(doc); k {
			ok++
		}
		// Every prefix of a short document, too: each is cut somewhere.
		if len(doc) < 400 {
			for n := range doc {
				sameAsDecode(t, doc[:n])
			}
		}
	}
	if ok < 2000 {
		t.Errorf("Skim passed only %d documents: the comparison shows little", ok)
	}
}

func TestSkimAllocates(t *testing.T) {
	docs := generated(100)
	n := testing.AllocsPerRun(10, func() {
		for _, doc := range docs {
			if _, ok := Skim(doc); !ok {
				t.Fatalf("generated event refused: %s", doc)
			}
		}
	})
	if n != 0 {
		t.Errorf("Skim allocated %v times for 100 events", n)
	}
}

func FuzzSkim(f *testing.F) {
	for _, doc := range fixtureDocs(f, 16<<10) {
		f.Add(doc)
	}
	for _, doc := range generated(50) {
		f.Add(doc)
	}
	for _, c := range skimCases {
		f.Add([]byte(c))
	}
	for _, tc := range edgeCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameAsDecode(t, doc)
	})
}

// FuzzSkimShaped compares Skim and Decode on audit-shaped documents (see
// FuzzDecodeShaped).
func FuzzSkimShaped(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\xff\xfe\xfd\xfc\xfb\xfa", "0123456789abcdefghij"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g := shaper{in: in}
		sameAsDecode(t, g.doc())
	})
}

// BenchmarkSkim compares Skim with Decode per byte on the benchmark log's
// events (scripts/bench.sh's generator).
func BenchmarkSkim(b *testing.B) {
	docs := generated(20000)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.Run("skim", func(b *testing.B) {
		b.SetBytes(int64(size))
		cpu := testcpu.Time()
		for b.Loop() {
			for _, doc := range docs {
				Skim(doc)
			}
		}
		b.ReportMetric(float64(testcpu.Time()-cpu)/float64(b.N*size), "cpu-ns/byte")
	})
	// The pre-filters of scripts/bench.sh's filters, as query makes them.
	for _, f := range []struct {
		name  string
		pairs [][2]any // key and value; a nil value: the key as a string
	}{
		{"tokens", [][2]any{{"username", "bob"}, {"user", nil}}},
		{"tokens403", [][2]any{{"code", int64(403)}, {"responseStatus", nil}, {"namespace", "kube-system"}, {"objectRef", nil}}},
		{"tokensPriv", [][2]any{{"privileged", true}, {"securityContext", nil}}},
	} {
		var tk Tokens
		for _, p := range f.pairs {
			if p[1] == nil {
				tk.AddString(p[0].(string))
			} else {
				tk.AddPair(p[0].(string), p[1])
			}
		}
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			cpu := testcpu.Time()
			for b.Loop() {
				for _, doc := range docs {
					SkimTokens(doc, &tk)
				}
			}
			b.ReportMetric(float64(testcpu.Time()-cpu)/float64(b.N*size), "cpu-ns/byte")
		})
	}
	b.Run("hot", func(b *testing.B) {
		// The first 1,000 lines in one buffer, as a reader hands them
		// on, small enough to stay in cache: Skim's own work, without
		// the memory stalls that dominate the cases above.
		var buf []byte
		for _, d := range docs[:1000] {
			buf = append(buf, d...)
		}
		hot := make([][]byte, 1000)
		at := 0
		for i, d := range docs[:1000] {
			hot[i] = buf[at : at+len(d)]
			at += len(d)
		}
		var tk Tokens
		tk.AddPair("username", "bob")
		b.SetBytes(int64(len(buf)))
		cpu := testcpu.Time()
		for b.Loop() {
			for _, doc := range hot {
				SkimTokens(doc, &tk)
			}
		}
		b.ReportMetric(float64(testcpu.Time()-cpu)/float64(b.N*len(buf)), "cpu-ns/byte")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(size))
		evs := make([]Event, 0, 1)
		cpu := testcpu.Time()
		for b.Loop() {
			for _, doc := range docs {
				evs, _ = decodeFast(doc, evs[:0])
			}
		}
		b.ReportMetric(float64(testcpu.Time()-cpu)/float64(b.N*size), "cpu-ns/byte")
	})
}

func TestSkimTokens(t *testing.T) {
	var tk Tokens
	user := tk.AddPair("username", "bob")
	code := tk.AddPair("code", int64(403))
	priv := tk.AddPair("privileged", true)
	ns := tk.AddString("kube-system")
	if user != 0 || code != 1 || priv != 2 || ns != 3 || tk.AddString(`a"b`) != -1 || tk.AddString(strings.Repeat("x", 64)) != -1 {
		t.Fatal("items not numbered in order, or a quote or a 64-byte string taken")
	}
	head := `{"kind":"Event","auditID":"a","stage":"Panic",`
	tests := []struct {
		body string
		want uint64
	}{
		{`"user":{"username":"bob"}}`, 1 << user},
		{`"user":{"username":"bobby"}}`, 0},
		{`"user":{"username":"b\u006fb"}}`, 0}, // escapes are the caller's
		{`"responseStatus":{"code":403}}`, 1 << code},
		{`"responseStatus":{"code":200}}`, 0},
		{`"requestObject":{"code":4.03e2,"x":{"privileged":true}}}`, 1<<code | 1<<priv},
		{`"requestObject":{"privileged":false,"n":"kube-system"}}`, 1 << ns},
		{`"objectRef":{"namespace":"kube-system"}}`, 1 << ns},
		{`"requestObject":["username","bob"]}`, 0},
		{`"annotations":{"username":"bob"}}`, 1 << user},
	}
	for _, tt := range tests {
		doc := []byte(head + tt.body)
		_, ok, found, _ := SkimTokens(doc, &tk)
		if !ok || found != tt.want {
			t.Errorf("%s: ok %v, found %b, want %b", doc, ok, found, tt.want)
		}
		if _, plain := Skim(doc); plain != ok {
			t.Errorf("%s: Skim %v, SkimTokens %v", doc, plain, ok)
		}
	}
}

// TestSkimBitmap holds fill's word trick to a byte at a time: every byte
// value at every place of a block.
func TestSkimBitmap(t *testing.T) {
	for c := 0; c < 256; c++ {
		for k := 0; k < 64; k++ {
			doc := bytes.Repeat([]byte{'a'}, 64+17)
			doc[k], doc[64+k%17] = byte(c), byte(c)
			s := skimmer{data: doc}
			s.fill(0)
			special := c == '"' || c == '\\' || c < 0x20
			want := [2]uint64{}
			if special {
				want = [2]uint64{1 << k, 1 << (k % 17)}
			}
			if s.bmN != 2 || s.bm[0] != want[0] || s.bm[1] != want[1] || s.high != (c >= 0x80) {
				t.Fatalf("byte %#x at %d: bitmap %b %b (%d words), high %v", c, k, s.bm[0], s.bm[1], s.bmN, s.high)
			}
		}
	}
}
