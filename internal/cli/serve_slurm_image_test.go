package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/registry"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/testutil/tools"
)

// servedDispatch is the answer of POST /api/v1/releases/{id}/dispatch and
// GET /api/v1/dispatches/{id}, or a problem.
type servedDispatch struct {
	DispatchID, JobID, State, Type, Check, Detail string
	ExitCode                                      *int
}

// serveCall sends a request with the bearer token tok (body JSON unless
// nil) and decodes the answer.
func serveCall(t *testing.T, method, url, tok string, body any) (int, servedDispatch) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d servedDispatch
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, d
}

// serveSlurmSite is an image release (imageRelease: built, signed,
// attested, pushed to a real registry) uploaded by manifest to a real
// slipway serve --slurm cli submitting to the machine's cluster.
type serveSlurmSite struct {
	cluster        *slurmtest.Cluster
	url, tok, id   string
	image, workdir string
}

// newServeSlurmSite starts the server with the extra flags; the workdir is
// WORK under the cluster's shared directory.
func newServeSlurmSite(t *testing.T, addr string, c *slurmtest.Cluster, name string, extra ...string) *serveSlurmSite {
	t.Helper()
	s := &serveSlurmSite{cluster: c, workdir: filepath.Join(c.Shared, name)}
	dir := t.TempDir()
	env := imageReleaseWith(addr, &s.image, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/image",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW_REF": "acme/image/.github/workflows/release.yml@refs/tags/v1",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "8", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")})(t, dir)
	// The server dispatches only what its policy's dispatch rules allow.
	writeFile(t, filepath.Join(dir, "policy.yaml"), string(mustRead(t, filepath.Join(dir, "policy.yaml")))+
		"dispatch:\n  - repositories: [github.com/acme/image]\n    partitions: ["+c.Partition+"]\n    maxTime: 5m\n    maxNodes: 1\n")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	slipway := filepath.Join(c.Shared, name+"-slipway")
	writeFile(t, slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(slipway, 0o755)
	if err := os.Mkdir(s.workdir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	s.tok = createToken(t, dir, data, "upload,read,dispatch")
	s.url = startServe(t, dir, data, "policy.yaml", append([]string{"--slurm", "cli", "--slurm-workdir", s.workdir,
		"--slurm-partition", c.Partition, "--slipway-path", slipway, "--slurm-node-policy", filepath.Join(dir, "policy.yaml")}, extra...)...)
	env["SLIPWAY_TOKEN"] = s.tok
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", s.url, "--manifest", "dist/manifest.json")
	if s.id = nameValues(stdout)["release-id"]; code != 0 || s.id == "" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return s
}

// enqueue asks the server to run command in the image.
func (s *serveSlurmSite) enqueue(t *testing.T, command string) (int, servedDispatch) {
	t.Helper()
	return serveCall(t, http.MethodPost, s.url+"/api/v1/releases/"+s.id+"/dispatch", s.tok,
		map[string]any{"artifact": s.image, "command": command, "timeLimit": 2, "cpusPerTask": 1, "mem": "256M"})
}

// TestServeSlurmImage: slipway serve --slurm dispatches an OCI image
// release itself, as slipway dispatch does: the manifest blob comes from
// its blob store, the config and layers are pulled by digest from the real
// registry the release names into an OCI image layout under the job's
// workdir, and on the real cluster exec-verified checks the manifest (and
// its signature under the node policy) and every layer again while it
// unpacks a fresh bundle that srun --container runs. A server that may not
// reach private registries refuses to stage the image from one (the
// release's uploader names the registry): nothing is submitted.
func TestServeSlurmImage(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	addr := registry.Start(t)

	// The site's runtime: srun --container by default, Podman with
	// --slurm-container-runtime podman (from the same verified bundle).
	for _, rt := range []struct{ name, workdir string }{{"slurm", "serve-image"}, {"podman", "serve-image-podman"}} {
		t.Run("completed/"+rt.name, func(t *testing.T) {
			t.Parallel()
			extra := []string{"--allow-private-registries"}
			if rt.name == "podman" {
				tools.Require(t, "podman")
				extra = append(extra, "--slurm-container-runtime", "podman")
			}
			s := newServeSlurmSite(t, addr, c, rt.workdir, extra...)
			// net.txt: Podman's container has no network but loopback.
			code, a := s.enqueue(t, "/bin/sh -c 'busybox ls /sys/class/net > net.txt; echo served-in-the-container > out.txt && exec /hello 0'")
			if code != http.StatusAccepted || a.JobID == "" {
				t.Fatalf("enqueue: %d %+v", code, a)
			}
			t.Cleanup(func() { removeJobCgroups(a.JobID) })
			got := waitDispatch(t, s.url, s.tok, a.DispatchID)
			logs, _ := filepath.Glob(filepath.Join(s.workdir, "*", ".slipway", "job-"+a.JobID+".*"))
			text := ""
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				text += string(b)
			}
			if got.State != "COMPLETED" || got.ExitCode == nil || *got.ExitCode != 0 {
				t.Fatalf("the image job ended %+v, want COMPLETED with exit code 0\n%s", got, text)
			}
			if !strings.Contains(text, "hello from the verified image") {
				t.Errorf("the job's logs do not show the image's program ran:\n%s", text)
			}
			outs, _ := filepath.Glob(filepath.Join(s.workdir, "*", "job-"+a.JobID, "out.txt"))
			if len(outs) != 1 {
				t.Fatalf("the container's output file: %q", outs)
			}
			if b, _ := os.ReadFile(outs[0]); string(b) != "served-in-the-container\n" {
				t.Errorf("out.txt = %q", b)
			}
			if net, _ := os.ReadFile(filepath.Join(filepath.Dir(outs[0]), "net.txt")); rt.name == "podman" && string(net) != "lo\n" {
				t.Errorf("the Podman container's network interfaces: %q, want only lo (not run by podman --network none?)", net)
			}
			blobs, _ := filepath.Glob(filepath.Join(s.workdir, "*", ".slipway", "release-"+s.id, s.image, "blobs", "sha256", strings.Repeat("[0-9a-f]", 64)))
			if len(blobs) != 4 {
				t.Errorf("the staged layout holds %d blobs, want 4 (manifest, config, 2 layers): %v", len(blobs), blobs)
			}
			noSecrets(t, s.workdir, s.tok)
		})
	}

	t.Run("private registry not allowed", func(t *testing.T) {
		t.Parallel()
		s := newServeSlurmSite(t, addr, c, "serve-image-private")
		code, a := s.enqueue(t, "/hello 0")
		if code != http.StatusBadRequest || a.Type != "urn:slipway:problem:registry-not-allowed" || a.JobID != "" {
			t.Fatalf("enqueue of an image in a private registry: %d %+v, want 400 registry-not-allowed", code, a)
		}
		if entries, _ := os.ReadDir(s.workdir); len(entries) != 0 {
			t.Errorf("a refused dispatch left %d directories in the workdir", len(entries))
		}
	})
}

// waitDispatch polls the dispatch until its state is final (2 minutes).
func waitDispatch(t *testing.T, url, tok, id string) servedDispatch {
	t.Helper()
	var got servedDispatch
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		var code int
		if code, got = serveCall(t, http.MethodGet, url+"/api/v1/dispatches/"+id, tok, nil); code != http.StatusOK {
			t.Fatalf("GET dispatch: %d %+v", code, got)
		}
		switch got.State {
		case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "UNKNOWN":
			return got
		}
	}
	t.Fatalf("dispatch %s did not end within 2 minutes: %+v", id, got)
	return got
}
