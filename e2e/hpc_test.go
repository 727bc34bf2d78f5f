package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/testutil/tools"
)

// headnodeID is the builder id of the headnode runner that dispatches (hpc.yml's builder-id for hpc-run).
const headnodeID = "https://e2e.slipway.invalid/headnode"

// TestHPCRun runs the whole route under act: the shipped release workflow builds, describes, signs (a cosign key
// from secrets), attests, uploads to the test's control plane and pushes; then the shipped hpc-run workflow, on a
// job labelled [self-hosted, slurm] (act runs it on this machine), dispatches the admitted release with the
// slurm-dispatch action (its container reaches this machine's slurmrestd over the host network with a JWT from
// scontrol token, and the test's shared directory at the path slurmd sees). The job runs the released program on
// the node after exec-verified checked it. The test checks the job's outputs, the outputs' provenance chained to
// the release (slipway verify), the control plane's log, and that no token or key is in a log or a file.
func TestHPCRun(t *testing.T) {
	takeTurn(t)
	cosign := tools.Require(t, "cosign")
	cluster := slurm.Require(t)
	reg := registry.Start(t)
	key := newCosignKeyPair(t, cosign)
	// The public key on the shared filesystem: the policy that names it is read by the control plane, the
	// dispatcher (in its container too) and exec-verified on the node.
	pub := filepath.Join(cluster.Shared, "cosign.pub")
	copyFile(t, key.publicPath, pub, 0o644)
	signers := "keys:\n  - name: e2e\n    path: " + pub + "\n"
	cp, tokens := startControlPlane(t, hpcPolicy(signers), []string{"e2e-release"})
	dispatchToken := cp.createToken(t, slipwayBinary(t), "e2e-headnode", "read,dispatch,upload")
	jwt := cluster.Token(t, 10*time.Minute)
	workdir := filepath.Join(cluster.Shared, "run")
	// On the shared filesystem, where the dispatcher and the compute node read them: the trust policy (with the
	// control plane's log key: receipts required) and the slipway binary the node runs exec-verified with.
	policy := filepath.Join(cluster.Shared, "policy.yaml")
	if err := os.WriteFile(policy, []byte(hpcPolicy(signers)+cp.logPolicy()), 0o644); err != nil {
		t.Fatal(err)
	}
	nodeSlipway := filepath.Join(cluster.Shared, "bin", "slipway")
	mustMkdir(t, filepath.Dir(nodeSlipway))
	copyFile(t, slipwayBinary(t), nodeSlipway, 0o755)

	r := Run(t, Scenario{
		Workflow: "testdata/workflows/hpc.yml",
		Inputs: map[string]string{
			"ref":       reg + "/e2e/hpc:1.0.0",
			"server":    cp.URL,
			"workdir":   workdir,
			"rest-url":  cluster.RESTURL,
			"rest-user": cluster.User,
			"partition": cluster.Partition,
			"policy":    policy,
			"slipway":   nodeSlipway,
		},
		Secrets: map[string]string{
			"COSIGN_KEY": key.private, "COSIGN_PASSWORD": key.password,
			"SLIPWAY_TOKEN": tokens[0], "DISPATCH_TOKEN": dispatchToken, "SLURM_JWT": jwt,
		},
		// The shared filesystem: one path for the dispatch action's container and for slurmd.
		Binds: []string{cluster.Shared},
	})
	r.RequireSuccess(t)
	if got := r.Value(t, "release"); got != "success" {
		t.Errorf("the release job's result = %q", got)
	}
	releaseID := r.Value(t, "release-id")
	if !regexp.MustCompile(`^r-[0-9a-f]{16}$`).MatchString(releaseID) {
		t.Fatalf("release-id = %q", releaseID)
	}
	for _, mode := range []string{"container", "runner"} {
		t.Run(mode, func(t *testing.T) {
			checkDispatched(t, r, mode, filepath.Join(workdir, mode), releaseID, policy)
		})
	}

	checkNoSecretLogged(t, r, key)
	checkNoSecretLeaked(t, r, cp, map[string]string{
		"the upload token": tokens[0], "the dispatch token": dispatchToken, "the Slurm JWT": jwt,
	}, cluster.Shared)
	checkJobLogFenced(t, r, "::error::forged by the job")
}

// checkJobLogFenced checks that a workflow command the Slurm job printed reached the step's log as text the runner
// ignored (inside the step's ::stop-commands:: fence), not as a command: a job must not forge the step's
// annotations, outputs or masks.
func checkJobLogFenced(t *testing.T, r *Result, forged string) {
	t.Helper()
	seen := false
	for _, l := range r.lines {
		if !strings.Contains(l.Msg, forged) {
			continue
		}
		seen = true
		if l.Command != "ignored" {
			t.Errorf("the job's %q reached the runner as a workflow command (act: command=%q level=%q): the job log is not fenced with ::stop-commands::", forged, l.Command, l.Level)
		}
	}
	if !seen {
		t.Errorf("the job's %q is not in the step's log: its log was not streamed", forged)
	}
}

// checkDispatched checks the outputs of the hpc-run call of dispatch-mode mode (hpc.yml's run-<mode> job), whose
// workdir was workdir: the Slurm job completed with exit code 0, the released program's greeting is in its
// directory, and slipway verify follows the outputs manifest back to the release the job ran (staged and verified
// in the workdir), under the policy with receipts required; a changed output fails it.
func checkDispatched(t *testing.T, r *Result, mode, workdir, releaseID, policy string) {
	t.Helper()
	v := func(k string) string { return r.Value(t, mode+"."+k) }
	for k, want := range map[string]string{"result": "success", "state": "COMPLETED", "exit-code": "0"} {
		if got := v(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	jobID := v("job-id")
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(jobID) {
		t.Fatalf("job-id = %q, not a Slurm job id", jobID)
	}
	// What the released program printed on the node, in the job's directory (workdir/job-ID).
	jobDir := filepath.Join(workdir, "job-"+jobID)
	if got, want := string(readFile(t, filepath.Join(jobDir, "out", "greeting.txt"))), "Hello, e2e! (hello 1.0.0)\n"; got != want {
		t.Errorf("out/greeting.txt = %q, want %q", got, want)
	}
	prov := v("output-provenance")
	if !strings.HasPrefix(prov, workdir+string(filepath.Separator)) {
		t.Errorf("output-provenance = %q, want a file in the workdir %s", prov, workdir)
	}
	if _, err := os.Stat(prov); err != nil {
		t.Errorf("output-provenance: %v", err)
	}
	manifest, err := filepath.Rel(workdir, v("outputs-manifest"))
	if err != nil || !filepath.IsLocal(manifest) {
		t.Fatalf("outputs-manifest = %q, want a file in the workdir %s", v("outputs-manifest"), workdir)
	}
	verify := func() (string, error) {
		cmd := exec.Command(slipwayBinary(t), "verify", "--manifest", manifest,
			"--release-manifest", filepath.Join(".slipway", "release-"+releaseID, "manifest.json"), "--policy", policy)
		cmd.Dir, cmd.Env = workdir, []string{"PATH=" + systemPath, "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := verify(); err != nil {
		t.Fatalf("slipway verify of the outputs back to %s: %v\n%s", releaseID, err, out)
	} else if !strings.Contains(out, "chain") {
		t.Errorf("slipway verify did not check the chain to the release:\n%s", out)
	}
	greeting := filepath.Join(jobDir, "out", "greeting.txt")
	if err := os.WriteFile(greeting, []byte("Hello, mallory!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(); err == nil {
		t.Errorf("slipway verify accepted a changed output:\n%s", out)
	}
}

// hpcPolicy is the control plane's trust policy for TestHPCRun: releases built by act's runner and outputs
// attested by the headnode, both signed with the test's key, from the sample repository.
func hpcPolicy(signers string) string {
	return "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nname: e2e-hpc\n" + signers +
		"builders:\n  - " + builderID + "\n  - " + headnodeID + "\nsourceRepositories:\n  - git+https://github.com/" + SampleRepository + "\n" +
		"requiredPredicateTypes:\n  - https://slsa.dev/provenance/v1\nallowedPredicateTypes:\n  - https://cyclonedx.org/bom\nmaxAge: 1d\n"
}
