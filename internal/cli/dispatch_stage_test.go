package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/verify"
)

// servedRelease is a release made by the real stages, uploaded to a real
// slipway serve: the workspace, the server, a token of scopes
// upload, read and dispatch, and the release id.
type servedRelease struct {
	dir, url, data, token, id string
	env                       map[string]string
}

func serveRelease(t *testing.T) servedRelease {
	t.Helper()
	return serveReleaseWith(t, "", "upload,read")
}

// serveReleaseWith is serveRelease with the server's policy trusting the
// extra cosign public keys and the builder too (when not empty), and a
// token of scopes.
func serveReleaseWith(t *testing.T, builder, scopes string, extraKeys ...[]byte) servedRelease {
	t.Helper()
	return serveReleaseEdited(t, builder, scopes, nil, extraKeys...)
}

// serveReleaseEdited is serveReleaseWith with edit, when not nil, run on
// the workspace and the server's policy before the upload: it may add to
// the release and returns the policy to serve.
func serveReleaseEdited(t *testing.T, builder, scopes string, edit func(dir, policy string) string, extraKeys ...[]byte) servedRelease {
	t.Helper()
	return serveReleaseFrom(t, nil, builder, scopes, edit, extraKeys...)
}

// serveReleaseFrom is serveReleaseEdited of the release make writes into
// the workspace (dist/manifest.json, policy.yaml, cosign.pub), returning
// the environment its key needs; nil makes release's.
func serveReleaseFrom(t *testing.T, make func(t *testing.T, dir string) map[string]string, builder, scopes string, edit func(dir, policy string) string, extraKeys ...[]byte) servedRelease {
	t.Helper()
	dir := t.TempDir()
	if make == nil {
		make = func(t *testing.T, dir string) map[string]string { return release(t, dir, "") }
	}
	env := make(t, dir)
	policy := string(mustRead(t, filepath.Join(dir, "policy.yaml")))
	for i, k := range extraKeys {
		name := fmt.Sprintf("extra%d.pub", i)
		writeFile(t, filepath.Join(dir, name), string(k))
		policy = strings.Replace(policy, "keys: [", fmt.Sprintf("keys: [{name: extra%d, path: %s}, ", i, name), 1)
	}
	if builder != "" {
		policy = strings.Replace(policy, "builders: [", "builders: ["+builder+", ", 1)
	}
	if edit != nil {
		policy = edit(dir, policy)
	}
	writeFile(t, filepath.Join(dir, "server-policy.yaml"), policy)
	data := t.TempDir()
	tok := createToken(t, dir, data, scopes)
	url := startServe(t, dir, data, "server-policy.yaml")
	env["SLIPWAY_TOKEN"] = tok
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	id := nameValues(stdout)["release-id"]
	if code != 0 || id == "" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return servedRelease{dir: dir, url: url, data: data, token: tok, id: id, env: env}
}

// rangeCutProxy forwards GETs to target; the first answer with a body over
// 4 bytes is cut after 4 bytes. It counts the Range requests it saw.
func rangeCutProxy(t *testing.T, target string, ranges *atomic.Int32) *httptest.Server {
	t.Helper()
	var cut atomic.Bool
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), nil)
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		if strings.Contains(r.URL.Path, "/files/src/") && resp.ContentLength > 4 && cut.CompareAndSwap(false, true) {
			io.CopyN(w, resp.Body, 4)
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

// TestDispatchStage: a release admitted by a real slipway serve is fetched
// into the workdir (by id, through a connection cut mid-file and resumed
// with a Range request; by an artifact's digest) and verifies with its
// receipt; under a policy that trusts another key it is refused with the
// failed check; a staged file changed before a re-run is refused; the
// local manifest with its receipt stages without the server.
func TestDispatchStage(t *testing.T) {
	t.Parallel()
	sr := serveRelease(t)
	p, err := policy.Load(filepath.Join(sr.dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ranges atomic.Int32
	proxy := rangeCutProxy(t, sr.url, &ranges)
	base, _ := url.Parse(proxy.URL)
	ctx := context.Background()
	work := t.TempDir()
	st, err := dispatch.Stage(ctx, dispatch.StageOptions{Workdir: work, Policy: p,
		Source: dispatch.Source{Server: base, Token: dispatch.StaticToken(sr.token), Release: sr.id}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Release.ID != sr.id || st.Release.Receipt == "" || !strings.HasPrefix(st.Release.ManifestDigest, "sha256:") || ranges.Load() != 1 {
		t.Fatalf("staged %+v after %d range requests, want release %s with receipt after 1", st.Release, ranges.Load(), sr.id)
	}
	if b, err := os.ReadFile(filepath.Join(st.Dir, "src", "a.bin")); err != nil || string(b) != "the-a\n" {
		t.Fatalf("staged src/a.bin: %q %v", b, err)
	}
	if !hasReceiptCheck(st) {
		t.Error("the verification that passed checked no receipt")
	}

	// By an artifact's digest: the same release.
	a := st.Manifest.ByRole("artifact")[0]
	byDigest, err := dispatch.Stage(ctx, dispatch.StageOptions{Workdir: t.TempDir(), Policy: p,
		Source: dispatch.Source{Server: base, Token: dispatch.StaticToken(sr.token), Release: a.Digest.String()}})
	if err != nil || byDigest.Release.ID != sr.id {
		t.Fatalf("stage by digest %s: %v", a.Digest, err)
	}

	// A policy trusting another key: refused, the failed check named.
	other := sigstoretest.NewCosignKey(t, "pw")
	writeFile(t, filepath.Join(sr.dir, "other.pub"), string(other.PublicPEM))
	writeFile(t, filepath.Join(sr.dir, "other-policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: other, path: other.pub}]\n")
	op, err := policy.Load(filepath.Join(sr.dir, "other-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = dispatch.Stage(ctx, dispatch.StageOptions{Workdir: t.TempDir(), Policy: op,
		Source: dispatch.Source{Server: base, Token: dispatch.StaticToken(sr.token), Release: sr.id}})
	var refused *dispatch.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "nothing was submitted") {
		t.Fatalf("stage under another key's policy: %v, want a refusal", err)
	}

	// A staged file changed before a re-run: refused.
	staged := filepath.Join(st.Dir, "src", "a.bin")
	os.Chmod(staged, 0o644)
	writeFile(t, staged, "the-b\n")
	_, err = dispatch.Stage(ctx, dispatch.StageOptions{Workdir: work, Policy: p,
		Source: dispatch.Source{Server: base, Token: dispatch.StaticToken(sr.token), Release: sr.id}})
	if !errors.As(err, &refused) {
		t.Fatalf("re-run with a changed staged file: %v, want a refusal", err)
	}

	// Local: the manifest slipway upload recorded receipts in, the log
	// key from the policy; no server.
	key, err := os.ReadFile(filepath.Join(st.Dir, "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(sr.dir, "log-policy.yaml"), strings.TrimSpace(string(mustRead(t, filepath.Join(sr.dir, "policy.yaml"))))+"\nlog: {verifierKey: \""+strings.TrimSpace(string(key))+"\"}\n")
	lp, err := policy.Load(filepath.Join(sr.dir, "log-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := dispatch.Stage(ctx, dispatch.StageOptions{Workdir: t.TempDir(), Policy: lp,
		Source: dispatch.Source{Manifest: "dist/manifest.json", Dir: sr.dir}})
	if err != nil || local.Release.ID != sr.id || local.Release.ManifestDigest != st.Release.ManifestDigest {
		t.Fatalf("stage of the local manifest: %v (%+v), want release %s", err, local, sr.id)
	}
}

func hasReceiptCheck(st *dispatch.Staged) bool {
	for _, s := range st.Report.Subjects {
		for _, c := range s.Checks {
			if c.Check == verify.CheckReceipt && c.Status == verify.Pass {
				return true
			}
		}
	}
	return false
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
