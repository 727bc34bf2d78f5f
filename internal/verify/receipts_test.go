package verify_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/verify"
)

// routeTessera silences tessera's process-wide logger once, before any log
// runs (setting it while one runs is a data race).
var routeTessera sync.Once

// openLog opens a real transparency log in a temp dir.
func openLog(t *testing.T, origin string) *tlog.Log {
	t.Helper()
	routeTessera.Do(func() { tlog.RouteTesseraLogs(slog.New(slog.DiscardHandler)) })
	l, err := tlog.Open(context.Background(), filepath.Join(t.TempDir(), "log"), tlog.Options{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// logReceipt logs a release entry of kind naming artifacts (name, sha256
// hex pairs) and returns the receipt text.
func logReceipt(t *testing.T, l *tlog.Log, kind entry.Kind, artifacts ...string) []byte {
	t.Helper()
	e := entry.Entry{Kind: kind, Decision: entry.DecisionAdmitted, Release: "r-" + artifacts[0], Source: "github.com/slipway/example",
		Uploader: "ci", Time: time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)}
	if kind == entry.KindReleaseRejected {
		e.Decision, e.Check = entry.DecisionRejected, "provenance"
	}
	for i := 0; i < len(artifacts); i += 2 {
		e.Artifacts = append(e.Artifacts, entry.Subject{Name: artifacts[i], SHA256: artifacts[i+1]})
	}
	b, err := entry.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Append(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return r.Marshal()
}

// TestReceipts checks receipt records of a manifest under the policy's log
// section, with receipts made by a real log.
func TestReceipts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l, other := openLog(t, "slipway.test/log"), openLog(t, "slipway.test/log")
	other2 := strings.Repeat("0", 64)
	good := logReceipt(t, l, entry.KindReleaseAdmitted, "app.tar.gz", f.sum, "lib.so", other2)
	rejected := logReceipt(t, l, entry.KindReleaseRejected, "app.tar.gz", f.sum)
	otherArtifact := logReceipt(t, l, entry.KindReleaseAdmitted, "lib.so", f.sum[:60]+"abcd")
	otherDigest := logReceipt(t, l, entry.KindReleaseAdmitted, "app.tar.gz", other2)
	otherLog := logReceipt(t, other, entry.KindReleaseAdmitted, "app.tar.gz", f.sum)
	parsed, err := receipt.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Entry = []byte(strings.Replace(string(parsed.Entry), `"uploader":"ci"`, `"uploader":"cj"`, 1))
	tampered := parsed.Marshal()

	key := l.VerifierKey()
	pRequired := f.policy(t, "log:\n  verifierKey: "+key+"\n  receipts: required\n")
	pOptional := f.policy(t, "log:\n  verifierKey: "+key+"\n")
	pOff := f.policy(t, "log:\n  verifierKey: "+key+"\n  receipts: off\n")
	pNone := f.policy(t, "")
	sig := f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	subj, err := digest.ParseHex(f.sum)
	if err != nil {
		t.Fatal(err)
	}

	for i, tc := range []struct {
		name     string
		p        *policy.Policy
		receipts [][]byte
		digest   bool // record the receipt with a wrong digest
		verified bool
		want     []string
	}{
		{name: "required and present", p: pRequired, receipts: [][]byte{good}, verified: true,
			want: []string{`PASS receipt `, `log "slipway.test/log" admitted "app.tar.gz" sha256:` + f.sum + ` in release "r-app.tar.gz" (entry 0 of `}},
		{name: "required and missing", p: pRequired, verified: false,
			want: []string{`FAIL receipt    app.tar.gz: the manifest lists no receipt for "app.tar.gz" sha256:` + f.sum + `, and the policy requires one`}},
		{name: "optional and missing", p: pOptional, verified: true},
		{name: "optional and tampered", p: pOptional, receipts: [][]byte{tampered}, verified: false,
			want: []string{"FAIL receipt ", "inclusion proof does not verify", "fetch the receipt again"}},
		{name: "tampered after it was recorded", p: pRequired, receipts: [][]byte{good}, digest: true, verified: false,
			want: []string{"FAIL receipt ", "but the manifest records", "changed after it was recorded"}},
		{name: "another artifact's receipt", p: pRequired, receipts: [][]byte{otherArtifact}, verified: false,
			want: []string{`does not name "app.tar.gz": the receipt is another release's`}},
		{name: "another digest", p: pRequired, receipts: [][]byte{otherDigest}, verified: false,
			want: []string{`admitted "app.tar.gz" with sha256:` + other2 + `, but the artifact is sha256:` + f.sum}},
		{name: "another log's key", p: pRequired, receipts: [][]byte{otherLog}, verified: false,
			want: []string{"the receipt is not from the log the policy trusts", "checkpoint not signed by the log key"}},
		{name: "a rejection", p: pRequired, receipts: [][]byte{rejected}, verified: false,
			want: []string{`records "release-rejected"`, `failed check "provenance"`, "not an admission"}},
		{name: "one good, one bad", p: pRequired, receipts: [][]byte{good, otherLog}, verified: false,
			want: []string{"PASS receipt ", "FAIL receipt "}},
		{name: "off ignores a bad one", p: pOff, receipts: [][]byte{otherLog}, verified: true},
		{name: "no log section ignores them", p: pNone, receipts: [][]byte{rejected}, verified: true},
		{name: "not a receipt", p: pOptional, receipts: [][]byte{[]byte("hello\n")}, verified: false,
			want: []string{"FAIL receipt ", "c2sp.org/tlog-proof@v1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := artifact.NewManifest()
			m.Add(artifact.Record{Name: "app.tar.gz", Path: "app.tar.gz", Digest: subj, Size: 3<<20 + 17, MediaType: "application/gzip", Role: artifact.RoleArtifact})
			m.Add(artifact.Record{Name: "app.tar.gz.sigstore.json", Path: "app.tar.gz.sigstore.json", Digest: fileDigest(t, sig), MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleSignature, Describes: subj})
			for j, rc := range tc.receipts {
				name := fmt.Sprintf("receipts/%d/%d/app.tar.gz.receipt", i, j)
				f.write(t, name, rc)
				d := digest.SHA256(sha256.Sum256(rc))
				if tc.digest {
					d[0] ^= 1
				}
				m.Add(artifact.NewReceipt(name, d, int64(len(rc)), subj))
			}
			r, err := verify.New(tc.p, verify.WithClock(f.ss.Now)).VerifyManifest(context.Background(), m, f.dir)
			if err != nil || len(r.Subjects) != 1 {
				t.Fatalf("VerifyManifest = %v, %v", r, err)
			}
			expect(t, r.Subjects[0], tc.verified, tc.want...)
			if !tc.verified && tc.p.Log.Receipts != policy.ReceiptsOff {
				for _, c := range r.Failed() {
					if c.Check != verify.CheckReceipt {
						t.Errorf("a check other than receipt failed: %s", c.Line())
					}
				}
			}
		})
	}
}
