package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/sigstore/cosign/v2/pkg/cosign"
)

//go:embed sample
var sample embed.FS

// BuildCommand builds the sample project.
const BuildCommand = "go build -trimpath -ldflags=-buildid= -o out/hello ."

// TestCommand runs the sample's tests; go test -json's stream is the
// result slipway test reads.
const TestCommand = "go test -json ./..."

// FailingTestCommand runs the same tests on the program stamped with
// another version: TestGreeting fails. The demo shows the policy refusing
// a release whose tests failed with it.
const FailingTestCommand = "go test -json -ldflags=-X=example.com/hello.version=v0.2.0-dirty ./..."

// Artifacts are the sample build's artifact globs.
const Artifacts = "out/hello"

// Archive is the name of the reproducible archive the demo asks for.
const Archive = "hello.tar.gz"

// Env is a prepared demo: a workspace, keys and a registry.
type Env struct {
	// Dir is the demo's work directory; Workspace the sample project in it.
	Dir       string
	Workspace string
	// PrivateKey is the encrypted cosign private key (PEM), kept in
	// memory only; Password unlocks it. PublicKey is the public key's file.
	PrivateKey string
	Password   string
	PublicKey  string
	// Registry is the in-process registry's host:port.
	Registry string
	// Policy is the path of a trust policy for the demo's key.
	Policy string
	// DB is the demo's vulnerability database (a grype v6 database
	// directory holding only the demo's own records, see VulnDB).
	DB string

	srv *http.Server
}

// Ref is the tag the demo pushes to.
func (e *Env) Ref() string { return e.Registry + "/demo/hello:v0.1.0" }

// Prepare writes the sample project into dir/workspace, generates a key
// pair (the public key in dir/keys) and starts the registry. Close stops the
// registry.
func Prepare(ctx context.Context, dir string) (_ *Env, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("demo directory %q is not empty; give a new or empty directory with --dir", dir)
	}
	e := &Env{Dir: dir, Workspace: filepath.Join(dir, "workspace")}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if err := writeSample(e.Workspace); err != nil {
		return nil, err
	}
	if err := gitInit(ctx, e.Workspace); err != nil {
		return nil, err
	}
	if err := e.writeKeys(filepath.Join(dir, "keys")); err != nil {
		return nil, err
	}
	now := time.Now()
	if err := e.writeVulnDB(now); err != nil {
		return nil, err
	}
	if err := e.writePolicy(now); err != nil {
		return nil, err
	}
	if err := e.startRegistry(); err != nil {
		return nil, err
	}
	return e, nil
}

func writeSample(dst string) error {
	return fs.WalkDir(sample, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "sample"), "/")
		target := filepath.Join(dst, filepath.FromSlash(strings.TrimSuffix(rel, ".txt")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := sample.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return fmt.Errorf("writing the sample project: %w", err)
		}
		return nil
	})
}

// gitInit makes the workspace a git repository with one commit at a fixed
// time, so the build records a commit and SOURCE_DATE_EPOCH. Without git the
// build still runs; it records no commit.
func gitInit(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return nil
	}
	env := append(os.Environ(),
		"GIT_AUTHOR_NAME=Slipway Demo", "GIT_AUTHOR_EMAIL=demo@slipway.invalid",
		"GIT_COMMITTER_NAME=Slipway Demo", "GIT_COMMITTER_EMAIL=demo@slipway.invalid",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "."},
		{"commit", "-q", "-m", "hello: the Slipway demo project"},
	} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s in the demo workspace: %v: %s", args[0], err, out)
		}
	}
	return os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("/out/\n/dist/\n"), 0o644)
}

func (e *Env) writeKeys(dir string) error {
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return err
	}
	e.Password = hex.EncodeToString(pw[:])
	keys, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(e.Password), nil })
	if err != nil {
		return fmt.Errorf("generating the demo key pair: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	e.PrivateKey, e.PublicKey = string(keys.PrivateBytes), filepath.Join(dir, "cosign.pub")
	return os.WriteFile(e.PublicKey, keys.PublicBytes, 0o644)
}

// LocalBuilder is the builder ID a command-line run is given: it says the
// build ran on a machine nobody vouches for.
const LocalBuilder = "https://slipway.dev/builders/local-unverified/v1"

// policy trusts the demo key and the local builder, and requires SLSA
// provenance, a CycloneDX SBOM, a passing test result and a scan with no
// finding above medium for every artifact; it ignores the demo database's
// high record (IgnoredVuln) for IgnoreDays after the demo ran.
const policy = `# The demo's trust policy: written by slipway demo, see docs/policy.md.
apiVersion: slipway.dev/v1
kind: TrustPolicy
name: slipway-demo
keys:
  - name: demo
    path: keys/cosign.pub
builders:
  - ` + LocalBuilder + `
requiredPredicateTypes:
  - https://slsa.dev/provenance/v1
  - https://cyclonedx.org/bom
maxAge: 1h
tests:
  required: true
  result: PASSED
vulnerabilities:
  required: true
  maxSeverity: medium
  maxAge: 1d
  ignore:
    - id: ` + IgnoredVuln + `
      reason: "a demo record, not a real advisory: slipway demo declares it to show an ignore at work"
      expires: %s
`

// IgnoreDays is how long the demo policy's ignore applies.
const IgnoreDays = 30

func (e *Env) writePolicy(now time.Time) error {
	e.Policy = filepath.Join(e.Dir, "policy.yaml")
	return os.WriteFile(e.Policy, []byte(fmt.Sprintf(policy, now.UTC().AddDate(0, 0, IgnoreDays).Format(time.DateOnly))), 0o644)
}

func (e *Env) startRegistry() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the demo registry: %w", err)
	}
	e.Registry = l.Addr().String()
	e.srv = &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := e.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("demo registry: %v", err)
		}
	}()
	return nil
}

// Close stops the registry; everything in the demo directory stays for the
// user to look at.
func (e *Env) Close() error {
	if e.srv == nil {
		return nil
	}
	return e.srv.Close()
}

// Rel returns p relative to the workspace, for messages.
func (e *Env) Rel(p string) string {
	if r, err := filepath.Rel(e.Workspace, p); err == nil && !strings.HasPrefix(r, "..") {
		return path.Clean(filepath.ToSlash(r))
	}
	return p
}
