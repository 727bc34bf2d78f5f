package e2e

import (
	"bytes"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// controlPlane is a `slipway serve` that a test started: the binary the action image holds (bin/slipway, built by
// scripts/image), on a loopback port, which the action containers reach as the registry of
// internal/testutil/registry is reached (act's --network host).
type controlPlane struct {
	URL    string
	dir    string
	stderr *logbuf.Buffer
	read   string // a token with scope read, for the test's own GETs
	key    string // the log's note verifier key
}

// startControlPlane writes the trust policy into a new data directory's parent, creates the tokens the test
// asks for (scope upload, by name; they are returned in that order) and a read token for itself with
// `slipway token create`, and starts `slipway serve` with args; it stops when t ends.
func startControlPlane(t *testing.T, policy string, uploadTokens []string, args ...string) (*controlPlane, []string) {
	t.Helper()
	ensureImage(t, requireEnv(t)) // bin/slipway
	bin := slipwayBinary(t)
	c := &controlPlane{dir: t.TempDir(), stderr: &logbuf.Buffer{}}
	if err := os.WriteFile(filepath.Join(c.dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, name := range uploadTokens {
		tokens = append(tokens, c.createToken(t, bin, name, "upload"))
	}
	c.read = c.createToken(t, bin, "e2e-reader", "read")

	cmd := exec.Command(bin, append([]string{"serve", "--data", "data", "--listen", "127.0.0.1:0", "--policy", "policy.yaml"}, args...)...)
	cmd.Dir, cmd.Env, cmd.Stderr = c.dir, []string{"PATH=" + systemPath, "HOME=" + c.dir}, c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("slipway serve's log:\n%s", c.stderr.String())
		}
	})
	addr := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	for deadline := time.Now().Add(time.Minute); c.URL == ""; time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(c.stderr.String()); m != nil {
			c.URL = "http://" + m[1]
			break
		}
		select {
		case <-done:
			t.Fatalf("slipway serve ended before serving: %s", c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slipway serve not serving after a minute: %s", c.stderr.String())
		}
	}
	c.key = strings.TrimSpace(string(c.get(t, "/api/v1/log/key", "")))
	if _, err := receipt.NewVerifier(c.key); err != nil {
		t.Fatalf("GET /api/v1/log/key: %v", err)
	}
	return c, tokens
}

// slipwayBinary is bin/slipway, the binary in the action image.
func slipwayBinary(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "bin", "slipway"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// createToken runs `slipway token create` and returns the token it printed once.
func (c *controlPlane) createToken(t *testing.T, bin, name, scope string) string {
	t.Helper()
	cmd := exec.Command(bin, "token", "create", "--data", "data", "--scope", scope, "--name", name)
	cmd.Dir, cmd.Env = c.dir, []string{"PATH=" + systemPath, "HOME=" + c.dir}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	m := regexp.MustCompile(`(?m)^token=(slw_\S+)$`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("slipway token create: %v; stderr: %s", err, stderr.Bytes())
	}
	return string(m[1])
}

// get GETs path with the read token (none when tok is ""), failing t unless the answer is 200.
func (c *controlPlane) get(t *testing.T, p, tok string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.URL+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s (%v)", p, resp.StatusCode, body, err)
	}
	return body
}

// logPolicy is the trust policy's log section that requires every artifact to have a receipt of this control
// plane's log (its key inline).
func (c *controlPlane) logPolicy() string {
	return "log:\n  verifierKey: " + c.key + "\n  receipts: required\n"
}

// checkAdmitted checks a release that the workflow uploaded to c and then pushed (rel, pulled into ws/dist): the
// workflow's release-id, log-index and receipt outputs are the control plane's; the pushed manifest records, for
// every artifact, the receipt pushed beside it, which is the one the control plane serves for the release; and
// the log entry it proves admitted this release's artifacts from uploader (a prefix of the identity the server
// names).
func (c *controlPlane) checkAdmitted(t *testing.T, r *Result, rel pushedRelease, uploader string) {
	t.Helper()
	id, index := r.Value(t, "release-id"), r.Value(t, "log-index")
	if !regexp.MustCompile(`^r-[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("release-id = %q", id)
	}
	if got, want := r.Value(t, "receipt"), "dist/"+id+artifact.ReceiptExt; got != want {
		t.Errorf("receipt = %q, want %q beside the manifest", got, want)
	}
	served := c.get(t, "/api/v1/releases/"+id+"/receipt", c.read)
	rc, err := receipt.Parse(served)
	if err != nil {
		t.Fatal(err)
	}
	if strconv.FormatUint(rc.Index, 10) != index {
		t.Errorf("log-index = %s, the receipt proves entry %d", index, rc.Index)
	}
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != entry.KindReleaseAdmitted || e.Release != id || !strings.HasPrefix(e.Uploader, uploader) {
		t.Errorf("the receipt's entry is %s of %q by %q, want release-admitted of %q by %s…", e.Kind, e.Release, e.Uploader, id, uploader)
	}
	for _, a := range rel.manifest.ByRole(artifact.RoleArtifact) {
		if d, ok := e.Digest(a.Name); !ok || d != a.Digest.Hex() {
			t.Errorf("the log entry names %s with %q (%t), the manifest %s", a.Name, d, ok, a.Digest)
		}
		var recorded []string
		for _, rec := range rel.manifest.Describing(a.Digest) {
			if rec.Role == artifact.RoleReceipt {
				recorded = append(recorded, rec.Path)
			}
		}
		if want := a.Name + artifact.ReceiptExt; len(recorded) != 1 || recorded[0] != want {
			t.Errorf("the pushed manifest records the receipts %v for %s, want [%s]", recorded, a.Name, want)
		}
		if pushed := readFile(t, rel.files[path.Base(a.Name)+artifact.ReceiptExt]); !bytes.Equal(pushed, served) {
			t.Errorf("the receipt pushed beside %s differs from the one the control plane serves for %s:\n%s\n---\n%s", a.Name, id, pushed, served)
		}
	}
}

// checkNoSecretLeaked fails when act's log (other than ::add-mask:: commands, which the runner consumes) or the
// control plane's log holds one of the secrets, or a JWT of the test's issuers (ES256, whose header always
// starts alike); or when a file the run left (its directory, which every action container shares: workspaces,
// outputs, act's action cache), the control plane's data directory (where a service token is only a hash) or one
// of the dirs (a Slurm job's shared workdir) holds one of the secrets.
func checkNoSecretLeaked(t *testing.T, r *Result, c *controlPlane, secrets map[string]string, dirs ...string) {
	t.Helper()
	inFiles := func(dir string) {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || p == filepath.Join(r.Dir, "act.jsonl") { // the log: below
				return err
			}
			data, err := os.ReadFile(p) // small files: a few KiB of artifacts, the sources, SQLite
			if err != nil {
				return err
			}
			for what, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("%s holds %s", p, what)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	inFiles(r.Dir)
	if c != nil {
		inFiles(c.dir)
	}
	for _, d := range dirs {
		inFiles(d)
	}
	secrets = maps.Clone(secrets)
	secrets["an ES256 JWT"] = jwtHeaderPrefix
	checkLogHides(t, r, secrets)
	for what, s := range secrets {
		if c != nil && strings.Contains(c.stderr.String(), s) {
			t.Errorf("slipway serve's log shows %s", what)
		}
	}
}

// checkLogHides fails when a line of act's log other than an ::add-mask:: command (which the runner consumes)
// holds one of the secrets.
func checkLogHides(t *testing.T, r *Result, secrets map[string]string) {
	t.Helper()
	for what, s := range secrets {
		for _, l := range r.lines {
			if l.Command != "add-mask" && strings.Contains(l.raw, s) {
				t.Errorf("act's log shows %s: %s", what, strings.ReplaceAll(l.raw, s, "<SECRET>"))
			}
		}
	}
}

// jwtHeaderPrefix starts the base64url of {"alg":"ES256",…}: every token sigstoretest's issuers sign.
const jwtHeaderPrefix = "eyJhbGciOiJFUzI1NiIs"
