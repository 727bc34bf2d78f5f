package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

const headnodeBuilder = "https://hpc.example.org/runners/headnode"

// slurmSite is a release admitted by a real slipway serve, ready to be
// dispatched to the machine's real Slurm: the policies on the shared
// filesystem, the dispatcher's own signing key, and slipway on the nodes
// (this test binary, run as slipway through a wrapper script).
type slurmSite struct {
	servedRelease
	cluster *slurmtest.Cluster
	// policy trusts the release's key and builder and names the log's key;
	// verifyPolicy trusts the dispatcher's key and builder too.
	policy, verifyPolicy string
	slipway              string
	// env is the dispatcher's: its signing key, PATH.
	env map[string]string
}

func newSlurmSite(t *testing.T) *slurmSite {
	t.Helper()
	return newSlurmSiteFrom(t, nil)
}

// newSlurmSiteFrom is newSlurmSite of the release make writes (see
// serveReleaseFrom; nil: release's).
func newSlurmSiteFrom(t *testing.T, make func(t *testing.T, dir string) map[string]string) *slurmSite {
	t.Helper()
	c := slurmtest.Require(t)
	dispatcher := sigstoretest.NewCosignKey(t, dispatcherPassword)
	// The server trusts the dispatcher's outputs too; the token may record
	// dispatches.
	s := &slurmSite{servedRelease: serveReleaseFrom(t, make, headnodeBuilder, "upload,read,dispatch", nil, dispatcher.PublicPEM), cluster: c}
	resp, err := http.Get(s.url + "/api/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	writeFile(t, filepath.Join(c.Shared, "release.pub"), string(mustRead(t, filepath.Join(s.dir, "cosign.pub"))))
	writeFile(t, filepath.Join(c.Shared, "dispatcher.pub"), string(dispatcher.PublicPEM))
	logSection := "log: {verifierKey: \"" + strings.TrimSpace(string(key)) + "\"}\n"
	s.policy = filepath.Join(c.Shared, "policy.yaml")
	writeFile(t, s.policy, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n"+logSection)
	s.verifyPolicy = filepath.Join(c.Shared, "verify-policy.yaml")
	writeFile(t, s.verifyPolicy, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}, {name: dispatcher, path: dispatcher.pub}]\nbuilders: ["+releaseBuilder+", "+headnodeBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n"+logSection)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.slipway = filepath.Join(c.Shared, "slipway")
	writeFile(t, s.slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(s.slipway, 0o755)
	var run [6]byte
	rand.Read(run[:])
	s.env = map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_KEY": string(dispatcher.PrivatePEM), "COSIGN_PASSWORD": dispatcherPassword,
		"GITHUB_RUN_ID": "dispatch-" + hex.EncodeToString(run[:]), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "run"}
	return s
}

// dispatch runs slipway dispatch of the local manifest (no server round
// trip) into workdir with backend and the extra arguments.
func (s *slurmSite) dispatch(t *testing.T, backend, workdir string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	args := []string{"dispatch", "--manifest", "dist/manifest.json", "--policy", s.policy, "--artifact", "src/a.bin",
		"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", workdir, "--backend", backend, "--builder-id", headnodeBuilder, "--tlog=false"}
	if backend == "rest" {
		args = append(args, "--rest-url", s.cluster.RESTURL, "--rest-user", s.cluster.User)
		env["SLURM_JWT"] = s.cluster.Token(t, 10*60e9)
	}
	code, stdout, stderr := runCLI(t, s.dir, env, append(args, extra...)...)
	for _, secret := range []string{env["SLURM_JWT"], dispatcherPassword, s.token} {
		if secret != "" && strings.Contains(stdout+stderr, secret) {
			t.Errorf("dispatch printed a secret")
		}
	}
	return code, nameValues(stdout), stdout + stderr
}

// dispatchFrom runs slipway dispatch of the release by id from the
// server (cli backend) into workdir.
func (s *slurmSite) dispatchFrom(t *testing.T, workdir string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	env := map[string]string{"SLIPWAY_TOKEN": s.token}
	for k, v := range s.env {
		env[k] = v
	}
	code, stdout, stderr := runCLI(t, s.dir, env, append(append([]string{"dispatch"}, s.fromArgs(workdir)...), extra...)...)
	if strings.Contains(stdout+stderr, s.token) {
		t.Errorf("dispatch printed the token")
	}
	return code, nameValues(stdout), stdout + stderr
}

// fromArgs are slipway dispatch's arguments for the release by id from
// the server (cli backend) into workdir.
func (s *slurmSite) fromArgs(workdir string) []string {
	return []string{"--server", s.url, "--release", s.id, "--policy", s.policy, "--artifact", "src/a.bin",
		"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", workdir, "--builder-id", headnodeBuilder, "--tlog=false"}
}

// TestDispatchSlurm dispatches a real release to the machine's real Slurm
// through each backend: a job that writes an output completes, and its
// signed provenance verifies back to the release (slipway verify
// --release-manifest); the same run again finds the same job instead of
// submitting another; a failing exit code fails the step with state
// FAILED; a release failing verification submits nothing; nothing secret
// is left in the workdir.
func TestDispatchSlurm(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	for _, backend := range []string{"cli", "rest"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			work := filepath.Join(s.cluster.Shared, backend+"-ok")
			code, out, text := s.dispatch(t, backend, work, "--command", "/bin/sh -c 'cp a.bin out.txt && echo job-says-hello'", "--outputs", "out.txt")
			if code != 0 || out["state"] != "COMPLETED" || out["exit-code"] != "0" || out["job-id"] == "" || out["output-provenance"] == "" {
				t.Fatalf("dispatch: exit %d\n%s", code, text)
			}
			if !strings.Contains(text, "job-says-hello") {
				t.Errorf("the job's output was not streamed:\n%s", text)
			}
			manifest := out["outputs-manifest"]
			rel, _ := filepath.Rel(work, manifest)
			staged := filepath.Join(".slipway", "release-"+s.id, "manifest.json")
			vcode, vout, verr := runCLI(t, work, nil, "verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", staged)
			if vcode != 0 || !strings.Contains(vout, "chain") || !strings.Contains(vout, "job-"+out["job-id"]+"/out.txt") {
				t.Fatalf("verify of the outputs back to the release: exit %d\n%s\n%s", vcode, vout, verr)
			}
			// Another release's manifest does not verify as the input.
			other := filepath.Join(t.TempDir(), "manifest.json")
			writeFile(t, other, strings.Replace(string(mustRead(t, filepath.Join(work, staged))), "the-a", "the-x", 1))
			if vcode, vout, _ := runCLI(t, work, nil, "verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", other); vcode == 0 {
				t.Errorf("verify with another release as input passed:\n%s", vout)
			}

			// The same run and attempt again: the same job, not a second one.
			code, again, text := s.dispatch(t, backend, work, "--command", "/bin/sh -c 'cp a.bin out.txt && echo job-says-hello'", "--outputs", "out.txt")
			if code != 0 || again["job-id"] != out["job-id"] {
				t.Fatalf("re-run: exit %d, job %q, want job %q again\n%s", code, again["job-id"], out["job-id"], text)
			}

			// A failing exit code: non-zero exit, state FAILED; the output it
			// left is attested with its end, and verify refuses it unless
			// told to accept outputs of failed jobs.
			failWork := filepath.Join(s.cluster.Shared, backend+"-fail")
			code, failed, text := s.dispatch(t, backend, failWork, "--command", "/bin/sh -c 'echo partial > out.txt; exit 3'", "--outputs", "out.txt,never-*.txt")
			if code != 1 || failed["state"] != "FAILED" || failed["exit-code"] != "3" || failed["output-provenance"] == "" {
				t.Fatalf("a job exiting 3 with outputs: exit %d, state %q, exit-code %q, provenance %q; want 1, FAILED, 3 and its outputs attested\n%s",
					code, failed["state"], failed["exit-code"], failed["output-provenance"], text)
			}
			frel, _ := filepath.Rel(failWork, failed["outputs-manifest"])
			vargs := []string{"verify", "--manifest", frel, "--policy", s.verifyPolicy, "--release-manifest", staged}
			vcode, vout, verr = runCLI(t, failWork, nil, vargs...)
			if vcode == 0 || !strings.Contains(vout+verr, "ended FAILED with exit code 3") || !strings.Contains(vout+verr, "allow-failed-jobs") {
				t.Errorf("verify of a failed job's output: exit %d, want it refused naming the state and allow-failed-jobs\n%s\n%s", vcode, vout, verr)
			}
			if vcode, vout, verr := runCLI(t, failWork, nil, append(vargs, "--allow-failed-jobs")...); vcode != 0 || !strings.Contains(vout, "output of a failed run, accepted") {
				t.Errorf("verify --allow-failed-jobs of a failed job's output: exit %d\n%s\n%s", vcode, vout, verr)
			}
			noSecrets(t, work, s.token, dispatcherPassword, string(mustRead(t, filepath.Join(s.cluster.Shared, "dispatcher.pub"))))
		})
	}

	// From the control plane: the release fetched by id, the dispatch
	// recorded in its log, the outputs uploaded and admitted.
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(s.cluster.Shared, "server")
		code, out, text := s.dispatchFrom(t, work, "--command", "/bin/sh -c 'cp a.bin out.txt'", "--outputs", "out.txt")
		if code != 0 || out["state"] != "COMPLETED" || !strings.Contains(text, "Recorded at the control plane") {
			t.Fatalf("dispatch from the server: exit %d\n%s", code, text)
		}
		if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "r-*.receipt")); len(m) != 1 {
			t.Errorf("the outputs' receipt is not in the workdir: %v\n%s", m, text)
		}
		authorization := regexp.MustCompile(`authorization (a-[0-9a-f]{16})`)
		first := authorization.FindStringSubmatch(text)
		if first == nil {
			t.Fatalf("the dispatch does not say it was authorized before submitting:\n%s", text)
		}
		code, again, text := s.dispatchFrom(t, work, "--command", "/bin/sh -c 'cp a.bin out.txt'", "--outputs", "out.txt")
		if code != 0 || again["job-id"] != out["job-id"] {
			t.Errorf("re-run from the server: exit %d, job %q, want %q\n%s", code, again["job-id"], out["job-id"], text)
		}
		if m := authorization.FindStringSubmatch(text); m == nil || m[1] != first[1] {
			t.Errorf("the re-run's authorization %q, want the first one %q again\n%s", m, first[1], text)
		}
		if jobs := jobsWithComment(t, jobComment(t, out["job-id"])); len(jobs) != 1 {
			t.Errorf("jobs with the first job's comment: %q, want the one job", jobs)
		}
	})

	// A policy whose dispatch rules do not cover the release: refused.
	limited := filepath.Join(s.cluster.Shared, "limited-policy.yaml")
	writeFile(t, limited, string(mustRead(t, s.policy))+"dispatch:\n  - repositories: [github.com/o/elsewhere]\n    partitions: [debug]\n")
	sl := *s
	sl.policy = limited
	if code, out, text := sl.dispatch(t, "cli", filepath.Join(s.cluster.Shared, "limited"), "--command", "true"); code != 1 || out["job-id"] != "" || !strings.Contains(text, "dispatch limits") {
		t.Errorf("a job outside the policy's dispatch rules: exit %d, job %q; want 1 and no job\n%s", code, out["job-id"], text)
	}

	// A policy that trusts another key: refused before submitting.
	other := sigstoretest.NewCosignKey(t, "x")
	writeFile(t, filepath.Join(s.cluster.Shared, "other.pub"), string(other.PublicPEM))
	bad := filepath.Join(s.cluster.Shared, "other-policy.yaml")
	writeFile(t, bad, strings.Replace(string(mustRead(t, s.policy)), "release.pub", "other.pub", 1))
	work := filepath.Join(s.cluster.Shared, "refused")
	s2 := *s
	s2.policy = bad
	code, out, text := s2.dispatch(t, "cli", work, "--command", "true")
	if code != 1 || out["job-id"] != "" || !strings.Contains(text, "nothing was submitted") {
		t.Errorf("a release failing verification: exit %d, job %q; want 1 and no job\n%s", code, out["job-id"], text)
	}
	if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job")); len(m) != 0 {
		t.Errorf("a job was recorded for a refused release: %v", m)
	}
}

// jobsWithComment lists the ids of the jobs Slurm still knows (in any
// state: finished jobs stay MinJobAge, 5 minutes here) whose comment
// contains part.
func jobsWithComment(t *testing.T, part string) []string {
	t.Helper()
	out, err := exec.Command("squeue", "-h", "-t", "all", "-o", "%i %k").CombinedOutput()
	if err != nil {
		t.Fatalf("squeue: %v\n%s", err, out)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if id, comment, ok := strings.Cut(line, " "); ok && strings.Contains(comment, part) {
			ids = append(ids, id)
		}
	}
	return ids
}

// jobComment is the comment (the idempotency key) of job id.
func jobComment(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("squeue", "-h", "-t", "all", "-j", id, "-o", "%k").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("squeue -j %s: %v %q", id, err, out)
	}
	return strings.TrimSpace(string(out))
}

// noSecrets fails when a file under dir holds one of the secrets (the
// public key is there to check that the walk reads files).
func noSecrets(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets[:len(secrets)-1] {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret", p)
			}
		}
		return nil
	})
}

// tamperingBackend changes the staged artifact right after the dispatcher
// verified it, as the job is submitted: the node must refuse it.
type tamperingBackend struct {
	slurm.Backend
	file string
}

func (b tamperingBackend) Submit(ctx context.Context, spec slurm.JobSpec) (uint32, error) {
	os.Chmod(b.file, 0o644)
	if err := os.WriteFile(b.file, []byte("the-evil\n"), 0o644); err != nil {
		return 0, err
	}
	return b.Backend.Submit(ctx, spec)
}

// TestDispatchTamperedAfterSubmit: the staged artifact is changed between
// the dispatcher's verification and the job's start; exec-verified on the
// node refuses to run it, and the dispatch fails saying so.
func TestDispatchTamperedAfterSubmit(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	p, err := policy.Load(s.policy)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(s.cluster.Shared, "tampered")
	staged := filepath.Join(work, ".slipway", "release-"+s.id, "src", "a.bin")
	res, err := dispatch.Run(context.Background(), dispatch.Options{
		Stage: dispatch.StageOptions{Source: dispatch.Source{Manifest: "dist/manifest.json", Dir: s.dir}, Workdir: work, Policy: p},
		Job: dispatch.Job{Command: "/bin/sh -c 'echo ran-anyway'", Artifact: "src/a.bin", Partition: s.cluster.Partition,
			CPUsPerTask: 1, Mem: "256M", TimeLimit: 2 * 60e9, Slipway: s.slipway, PolicyFile: s.policy},
		Backend: tamperingBackend{Backend: slurmcli.New(slurmcli.Options{}), file: staged},
		Out:     io.Discard,
	})
	if err == nil || res == nil || res.State != slurm.Failed || !strings.Contains(res.Reason, "exec-verified refused") {
		t.Fatalf("a tampered artifact: %v (%+v), want the node's refusal", err, res)
	}
	if !strings.Contains(err.Error(), "exec-verified refused") {
		t.Errorf("the error does not say the node refused: %v", err)
	}
	t.Logf("refused: %v", err)
}

// dispatcherPassword encrypts the dispatcher's test signing key. The tests
// look for it in every file a dispatch leaves behind, so it is long enough
// never to occur by chance in base64 bundle text (a three-letter one did).
const dispatcherPassword = "dispatcher-key-password-5b1f"
