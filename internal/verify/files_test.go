package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/verify"
)

// bounded runs fn and fails the test when it has not returned within a
// generous bound: what it checks is that fn returns at all (a FIFO blocks
// forever, /dev/zero never ends), not how fast.
func bounded(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not return: it blocks on a file that is not a regular file", what)
	}
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOnlyRegularFiles is the regression test for a FIFO given as a bundle
// (it blocked forever) and /dev/zero as a subject or manifest artifact (it
// was read forever): each is a failed check now, at once.
func TestOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.policy(t, "")
	sig := f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	fifo := mkfifo(t, filepath.Join(f.dir, "bundle.fifo"))
	if err := os.Symlink("/dev/zero", filepath.Join(f.dir, "zero")); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(f.dir, "sbom.fifo"))
	mkfifo(t, filepath.Join(f.dir, "sig.fifo"))

	subj, _ := digest.ParseHex(f.sum)
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "zero", Path: "zero", Digest: subj, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "app.tar.gz", Path: "app.tar.gz", Digest: subj, MediaType: "application/gzip", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "sig.fifo", Path: "sig.fifo", Digest: subj, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleSignature, Describes: subj})
	m.Add(artifact.Record{Name: "sbom.fifo", Path: "sbom.fifo", Digest: subj, MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: subj})

	for _, tc := range []struct {
		name     string
		subjects func() []verify.Subject
		want     []string
	}{
		{"a FIFO as a bundle", func() []verify.Subject {
			return []verify.Subject{{Name: "app.tar.gz", Path: f.subject, Bundles: []string{sig, fifo}}}
		}, []string{"FAIL bundle     bundle.fifo: cannot be read: " + `"` + fifo + `" is a named pipe (FIFO), not a regular file`, "PASS signature  app.tar.gz.sigstore.json"}},
		{"/dev/zero as a subject", func() []verify.Subject {
			return []verify.Subject{{Name: "zero", Path: "/dev/zero", Bundles: []string{sig}}}
		}, []string{`FAIL digest     zero: cannot read the subject: "/dev/zero" is a character device, not a regular file`}},
		{"a manifest naming /dev/zero, a FIFO bundle and a FIFO SBOM", func() []verify.Subject {
			return verify.ManifestSubjects(m, f.dir)
		}, []string{"FAIL digest     zero: cannot read the subject:", "FAIL bundle     sig.fifo: cannot be read:", "named pipe (FIFO)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r *verify.Report
			var err error
			bounded(t, "Verify", func() {
				r, err = verify.New(p, verify.WithClock(f.ss.Now)).Verify(context.Background(), tc.subjects())
			})
			if err != nil {
				t.Fatal(err)
			}
			var all verify.SubjectReport
			for _, s := range r.Subjects {
				all.Checks = append(all.Checks, s.Checks...)
			}
			expect(t, &all, false, tc.want...)
		})
	}
}

// TestBundleLimits: one bundle over the per-file limit, and the bundles of
// one subject over the total, fail their bundle check naming both limits.
func TestBundleLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.policy(t, allowBuilders)
	sig := f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	prov := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance()))
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	sigSize, provSize := size(sig), size(prov)
	for _, tc := range []struct {
		name           string
		perFile, total int64
		verified       bool
		want           string
	}{
		{"within both", provSize, sigSize + provSize, true, "PASS builder"},
		{"one bundle too large", sigSize - 1, 1 << 20, false,
			"FAIL bundle     a.sigstore.json: is larger than " + regfile.FormatSize(sigSize-1) + ", the limit for one bundle (the limit for all bundles of a subject is 1 MiB; verify.WithBundleLimits)"},
		{"all bundles too large", 1 << 20, sigSize + provSize - 1, false,
			"FAIL bundle     a.intoto.json: would bring the subject's bundles to more than " + regfile.FormatSize(sigSize+provSize-1) + ", the limit for all bundles of a subject (" + regfile.FormatSize(sigSize) + " are read already; the limit for one bundle is 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := verify.New(p, verify.WithClock(f.ss.Now), verify.WithBundleLimits(tc.perFile, tc.total))
			r, err := v.Verify(context.Background(), []verify.Subject{{Name: "app.tar.gz", Path: f.subject, Bundles: []string{sig, prov}}})
			if err != nil {
				t.Fatal(err)
			}
			expect(t, r.Subjects[0], tc.verified, tc.want)
		})
	}
}
