package verify_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/verify"
)

// benchSize is the size of the benchmarks' artifact: SLIPWAY_BENCH_SIZE
// bytes (the bar is 2 GiB: 2147483648), 256 MiB by default.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("SLIPWAY_BENCH_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SLIPWAY_BENCH_SIZE=%q is not a positive number of bytes", s)
		}
		return n
	}
	return 256 << 20
}

// benchArtifact writes a file of benchSize bytes (a random MiB repeated)
// and returns its path and digest.
func benchArtifact(b *testing.B, dir string) (string, digest.SHA256) {
	b.Helper()
	size := benchSize(b)
	path := filepath.Join(dir, "big.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	block := make([]byte, 1<<20)
	if _, err := rand.Read(block); err != nil {
		b.Fatal(err)
	}
	for n := int64(0); n < size; n += int64(len(block)) {
		if _, err := f.Write(block[:min(int64(len(block)), size-n)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	d, _, err := digest.File(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, d
}

// benchFixture signs the artifact as the sign stage does (a Sigstore bundle
// over its digest, with a cosign key; optionally an OpenPGP signature) and
// returns the policy and bundle paths.
func benchFixture(b *testing.B, withGPG bool) (*policy.Policy, verify.Subject) {
	b.Helper()
	dir := b.TempDir()
	path, d := benchArtifact(b, dir)
	key := sigstoretest.NewCosignKey(b, "bench")
	s, err := signing.New(context.Background(), signing.Options{Key: key.PrivatePath, Password: []byte(key.Password)})
	if err != nil {
		b.Fatal(err)
	}
	bndl, err := s.SignDigest(context.Background(), d)
	if err != nil {
		b.Fatal(err)
	}
	js, err := json.Marshal(bndl)
	if err != nil {
		b.Fatal(err)
	}
	bundles := []string{policytest.WriteFile(b, dir, "big.bin.sigstore.json", js)}
	policytest.WriteFile(b, dir, "cosign.pub", key.PublicPEM)
	doc := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n"
	if withGPG {
		e, pub := policytest.NewGPGKey(b, "maintainer")
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		bundles = append(bundles, policytest.WriteFile(b, dir, "big.bin.asc", policytest.GPGSign(b, e, fh)))
		fh.Close()
		policytest.WriteFile(b, dir, "maintainer.asc", pub)
		doc += "gpgKeys: [{name: maintainer, path: maintainer.asc}]\n"
	}
	p, err := policy.Load(policytest.WriteFile(b, dir, "policy.yaml", []byte(doc)))
	if err != nil {
		b.Fatal(err)
	}
	return p, verify.Subject{Name: "big.bin", Path: path, Bundles: bundles}
}

// BenchmarkSHA256Pass is the reference: one streaming SHA-256 pass over the
// artifact, as every stage computes it.
func BenchmarkSHA256Pass(b *testing.B) {
	path, _ := benchArtifact(b, b.TempDir())
	b.SetBytes(benchSize(b))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := digest.File(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBundle verifies a key-signed Sigstore bundle over the
// artifact: one read, then a signature check on its digest.
func BenchmarkVerifyBundle(b *testing.B) {
	benchVerify(b, false)
}

// BenchmarkVerifyBundleAndGPG adds an OpenPGP signature, checked in the
// same read of the artifact (a v4 SHA-256 signature takes the SHA-256's
// state: the bytes are hashed once).
func BenchmarkVerifyBundleAndGPG(b *testing.B) {
	benchVerify(b, true)
}

func benchVerify(b *testing.B, withGPG bool) {
	p, s := benchFixture(b, withGPG)
	v := verify.New(p)
	b.SetBytes(benchSize(b))
	b.ResetTimer()
	for b.Loop() {
		r, err := v.Verify(context.Background(), []verify.Subject{s})
		if err != nil {
			b.Fatal(err)
		}
		if !r.Verified {
			b.Fatalf("not verified: %+v", r.Failed())
		}
	}
}
