package dashboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/testutil/tools"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// grownLog is a real transparency log (internal/tlog) served by a real
// control plane (internal/server: /log/, /api/v1/log/key and
// /api/v1/log/consistency), grown through the sizes the test needs.
type grownLog struct {
	tl     *tlog.Log
	url    string
	signer note.Signer       // the log's own key, to sign what a lying log would
	cps    map[uint64][]byte // the checkpoint the log published at each size
	tree   *testonly.Tree    // the same leaves, for reference roots
	sample []byte            // a receipt the log handed out
}

// growLog appends entries until the log has published a checkpoint at
// each of sizes (ascending).
func growLog(t *testing.T, sizes []uint64) *grownLog {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	keyFile := filepath.Join(data, "log.key")
	tl, err := tlog.Open(ctx, filepath.Join(data, "log"), tlog.Options{Origin: "dash.test/log", KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, Auth: token.NewManager(db), TLog: tl})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		tl.Close(ctx)
		db.Close()
	})
	skey, err := regfile.ReadAll(keyFile, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	g := &grownLog{tl: tl, url: hs.URL, signer: signer, cps: map[uint64][]byte{}, tree: testonly.New(rfc6962.DefaultHasher)}
	var leaves [][]byte
	for _, size := range sizes {
		n := int(size) - len(leaves)
		batch := make([][]byte, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			e, err := entry.Marshal(entry.Entry{Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted,
				Release: fmt.Sprintf("r-%016x", len(leaves)+i), Source: "github.com/acme/app", Uploader: "ci", Time: time.Unix(int64(len(leaves)+i), 0),
				Artifacts: []entry.Subject{{Name: "app", SHA256: strings.Repeat("ab", 32)}}})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				rc, err := tl.Append(ctx, e)
				if err != nil {
					errs <- err
					return
				}
				batch[int(rc.Index)-len(leaves)] = e
				if g.sample == nil && rc.Index == 0 {
					g.sample = rc.Marshal()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		leaves = append(leaves, batch...)
		cp, err := tl.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		g.cps[size] = cp
	}
	g.tree.AppendData(leaves...)
	return g
}

// sign is the log's key signing a checkpoint of size with root: what a
// log that lies would publish.
func (g *grownLog) sign(t *testing.T, signer note.Signer, size uint64, root []byte) string {
	t.Helper()
	text := fmt.Sprintf("%s\n%d\n%s\n", signer.Name(), size, base64.StdEncoding.EncodeToString(root))
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// jsResult is what the harness answers for a case.
type jsResult struct {
	OK      bool     `json:"ok"`
	Checked bool     `json:"checked"`
	Root    string   `json:"root"`
	Reason  string   `json:"reason"`
	Crash   string   `json:"crash"`
	Steps   []string `json:"steps"`
}

// runJS runs the cases through static/js/logcheck.js in Node.
func runJS(t *testing.T, cases []map[string]any) []jsResult {
	t.Helper()
	node := tools.Require(t, "node")
	raw, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "logcheck_node.js"), filepath.Join("static", "js", "logcheck.js"), in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res []jsResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("node answered %d results for %d cases (%v): %.500s", len(res), len(cases), err, out)
	}
	for i, r := range res {
		if r.Crash != "" {
			t.Errorf("case %v: the JS threw an unexpected error: %s", cases[i], r.Crash)
		}
	}
	return res
}

func b64(h []byte) string { return base64.StdEncoding.EncodeToString(h) }

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

// flip returns a copy of h with one bit changed.
func flip(h []byte) []byte {
	c := bytes.Clone(h)
	c[len(c)/2] ^= 0x10
	return c
}

// TestLogCheckJS checks the page's JavaScript against the Go implementation
// on a real log: RFC 9162 consistency proofs internal/tlog builds for every
// pair of sizes (equal, powers of two and their neighbours, 0 and 1, across
// the 256-entry tile boundary), the same proofs and roots tampered with
// (the JS must refuse exactly what transparency-dev/merkle refuses), the
// checkpoints' Ed25519 signatures, roots computed from the tiles, and the
// page's two checks end to end against the real server's endpoints.
func TestLogCheckJS(t *testing.T) {
	sizes := []uint64{1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 255, 256, 257, 300}
	g := growLog(t, sizes)
	ctx := context.Background()
	all := append([]uint64{0}, sizes...)

	var cases []map[string]any
	var want []bool // expected ok per case
	var why []string
	add := func(c map[string]any, ok bool, what string) {
		cases = append(cases, c)
		want = append(want, ok)
		why = append(why, what)
	}
	consistency := func(s1, s2 uint64, p [][]byte, r1, r2 []byte, what string) {
		err := proof.VerifyConsistency(rfc6962.DefaultHasher, s1, s2, p, r1, r2)
		add(map[string]any{"op": "consistency", "size1": s1, "size2": s2, "proof": b64s(p), "root1": b64(r1), "root2": b64(r2)}, err == nil,
			fmt.Sprintf("%s %d->%d (Go: %v)", what, s1, s2, err))
	}
	for i, s1 := range all {
		for _, s2 := range all[i:] {
			p, err := g.tl.ConsistencyProof(ctx, s1, s2)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", s1, s2, err)
			}
			r1, r2 := g.tree.HashAt(s1), g.tree.HashAt(s2)
			consistency(s1, s2, p, r1, r2, "proof")
			if s1 == s2 || s1 == 0 {
				consistency(s1, s2, p, r1, flip(r2), "other newer root")
				continue
			}
			consistency(s1, s2, p, flip(r1), r2, "other older root")
			consistency(s1, s2, p, r1, flip(r2), "other newer root")
			consistency(s1, s2, p[:len(p)-1], r1, r2, "a hash short")
			consistency(s1, s2, append(append([][]byte{}, p...), r1), r1, r2, "a hash more")
			for k := range p {
				q := append([][]byte{}, p...)
				q[k] = flip(q[k])
				consistency(s1, s2, q, r1, r2, fmt.Sprintf("hash %d changed", k))
			}
			if s2 < 300 {
				consistency(s1, s2+1, p, r1, g.tree.HashAt(s2+1), "proof for another newer size")
			}
		}
	}
	consistency(5, 4, nil, g.tree.HashAt(5), g.tree.HashAt(4), "the log went back")
	consistency(0, 3, [][]byte{g.tree.HashAt(1)}, g.tree.HashAt(0), g.tree.HashAt(3), "a proof from the empty tree")

	// Signatures: every checkpoint the log published, then forgeries.
	vkey := g.tl.VerifierKey()
	for _, s := range sizes {
		add(map[string]any{"op": "note", "checkpoint": string(g.cps[s]), "key": vkey}, true, fmt.Sprintf("checkpoint of size %d", s))
	}
	latest := string(g.cps[300])
	add(map[string]any{"op": "note", "checkpoint": strings.Replace(latest, "\n300\n", "\n301\n", 1), "key": vkey}, false, "text changed after signing")
	otherSkey, _, err := note.GenerateKey(rand.Reader, g.signer.Name())
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewSigner(otherSkey)
	if err != nil {
		t.Fatal(err)
	}
	add(map[string]any{"op": "note", "checkpoint": g.sign(t, other, 300, g.tree.HashAt(300)), "key": vkey}, false, "signed by another key of the same name")
	sig := strings.LastIndex(latest, " ")
	bad := []byte(latest)
	if bad[sig+10] == 'A' {
		bad[sig+10] = 'B'
	} else {
		bad[sig+10] = 'A'
	}
	add(map[string]any{"op": "note", "checkpoint": string(bad), "key": vkey}, false, "signature bytes changed")
	add(map[string]any{"op": "note", "checkpoint": "not a checkpoint", "key": vkey}, false, "garbage")
	add(map[string]any{"op": "note", "checkpoint": strings.ReplaceAll(latest, "\n", "\r\n") + "\n\n", "key": vkey}, true, "pasted with CR LF and blank lines")

	// Pasted text is outside input: random changes to a checkpoint must be
	// refused with a reason (never a crash), exactly when Go's
	// log.ParseCheckpoint refuses the same text as the page reads it
	// (line ends made LF, surrounding blank space trimmed).
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 300 {
		b := []byte(string(g.cps[33]))
		for range 1 + rng.IntN(3) {
			const set = "\n\r \u2014+/=Aa0" // the em dash as its three bytes
			b[rng.IntN(len(b))] = set[rng.IntN(len(set))]
		}
		pasted := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\r", "\n")) + "\n"
		_, _, _, err := log.ParseCheckpoint([]byte(pasted), g.signer.Name(), g.tl.Verifier())
		add(map[string]any{"op": "note", "checkpoint": string(b), "key": vkey}, err == nil, fmt.Sprintf("changed checkpoint %q (Go: %v)", b, err))
	}

	// Roots from the tiles, across partial and full tiles.
	firstRoot := len(cases)
	rootSizes := []uint64{0, 1, 3, 255, 256, 257, 299, 300}
	for _, s := range rootSizes {
		add(map[string]any{"op": "root", "size": s, "base": g.url}, true, fmt.Sprintf("root of size %d", s))
	}
	add(map[string]any{"op": "root", "size": 301, "base": g.url}, false, "root beyond the latest size")

	// The page's checks end to end against the real server.
	for _, s := range sizes {
		add(map[string]any{"op": "checkpoint", "base": g.url, "text": string(g.cps[s])}, true, fmt.Sprintf("kept checkpoint of size %d", s))
	}
	add(map[string]any{"op": "checkpoint", "base": g.url, "text": string(g.sample)}, true, "a receipt pasted whole")
	add(map[string]any{"op": "checkpoint", "base": g.url, "text": g.sign(t, g.signer, 17, g.tree.HashAt(18))}, false, "the log signed another tree of size 17 (a fork)")
	add(map[string]any{"op": "checkpoint", "base": g.url, "text": g.sign(t, g.signer, 300, g.tree.HashAt(299))}, false, "the log signed another tree of size 300")
	add(map[string]any{"op": "checkpoint", "base": g.url, "text": g.sign(t, g.signer, 400, g.tree.HashAt(300))}, false, "a kept checkpoint newer than the latest")
	add(map[string]any{"op": "checkpoint", "base": g.url, "text": g.sign(t, other, 17, g.tree.HashAt(17))}, false, "a checkpoint by another key")
	for _, p := range [][2]string{{"0", "300"}, {"1", "300"}, {"17", "256"}, {"256", "257"}, {"300", "300"}, {"3", "3"}} {
		add(map[string]any{"op": "sizes", "base": g.url, "from": p[0], "to": p[1]}, true, "sizes "+p[0]+" to "+p[1])
	}
	for _, p := range [][2]string{{"5", "4"}, {"1", "301"}, {"-1", "3"}, {"x", "3"}} {
		add(map[string]any{"op": "sizes", "base": g.url, "from": p[0], "to": p[1]}, false, "sizes "+p[0]+" to "+p[1])
	}

	insecure := len(cases)
	add(map[string]any{"op": "insecure", "base": g.url, "text": string(g.cps[17])}, false, "a page without WebCrypto (plain HTTP)")

	res := runJS(t, cases)
	if !strings.Contains(res[insecure].Reason, "HTTPS") {
		t.Errorf("without WebCrypto the check says %q, want it to name HTTPS", res[insecure].Reason)
	}
	for i, r := range res {
		if r.OK != want[i] {
			t.Errorf("%s: the JS says ok=%v (%s), want %v", why[i], r.OK, r.Reason, want[i])
		}
		if !r.OK && r.Reason == "" && r.Crash == "" {
			t.Errorf("%s: the JS failed without a reason", why[i])
		}
		switch cases[i]["op"] {
		case "note":
			if r.OK && !r.Checked {
				t.Errorf("%s: Node has Ed25519 in WebCrypto, but the signature was not checked", why[i])
			}
		case "checkpoint", "sizes":
			if r.OK && !strings.Contains(strings.Join(r.Steps, "\n"), "Ed25519 checked") {
				t.Errorf("%s: the steps do not say the signature was checked: %q", why[i], r.Steps)
			}
		}
	}
	for i, s := range rootSizes {
		if r := res[firstRoot+i]; r.Root != b64(g.tree.HashAt(s)) {
			t.Errorf("root of size %d from the tiles: the JS computed %s, want %s", s, r.Root, b64(g.tree.HashAt(s)))
		}
	}
	// The log's checkpoints are the Go parser's too (the reference above).
	for _, s := range sizes {
		cp, _, _, err := log.ParseCheckpoint(g.cps[s], g.signer.Name(), g.tl.Verifier())
		if err != nil || cp.Size != s || !bytes.Equal(cp.Hash, g.tree.HashAt(s)) {
			t.Fatalf("checkpoint of size %d: %v", s, err)
		}
	}
	t.Logf("%d cases", len(cases))
}
