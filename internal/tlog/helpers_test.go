package tlog

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/tlog/entry"
)

// openTest opens a log in a fresh temp dir (or dir, when given) and closes it
// when the test ends.
func openTest(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "log")
	}
	if opts.Origin == "" && opts.KeyFile == "" {
		opts.Origin = "slipway.test/log"
	}
	l, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// testEntry returns the canonical admitted entry of artifact name with
// content's digest.
func testEntry(t testing.TB, n int, name, content string) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	b, err := entry.Marshal(entry.Entry{
		Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted,
		Release: fmt.Sprintf("r-%d", n), Source: "github.com/acme/app", Uploader: "ci",
		Time:      time.Date(2026, 12, 5, 0, 0, n%60, 0, time.UTC),
		Artifacts: []entry.Subject{{Name: name, SHA256: fmt.Sprintf("%x", sum)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSeededKey writes a note signing key for origin made from a fixed
// seed, so that checkpoints (and receipts) are reproducible.
func writeSeededKey(t testing.TB, keyFile, origin string) note.Verifier {
	t.Helper()
	seed := sha256.Sum256([]byte("slipway tlog golden key"))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(vkey, "+")
	skey := "PRIVATE+KEY+" + origin + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed[:]...))
	if err := atomicfile.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
