package dispatch

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/execverified"
	"github.com/slipway/actions/internal/jobscript"
	"github.com/slipway/actions/internal/slurm"
)

// Job is what to run and what to ask Slurm for.
type Job struct {
	// Command is the command line, split into words without a shell
	// (jobscript.SplitCommand); it runs in the job's fresh directory (where
	// a tar.gz is unpacked); a word equal to the staged file's path gets
	// the file checked on the node. Exactly one of Command and Script.
	Command string
	// Script is an artifact of the release (its name), run with /bin/sh
	// once the node checked it: nothing that was not admitted runs.
	Script string
	// Artifact is the release's artifact to check and run (its name); ""
	// for Script's, the one a digest named, or the release's only one.
	Artifact string

	Partition, Account, QOS, Cluster string
	TimeLimit                        time.Duration
	Nodes, NTasks, CPUsPerTask       int
	Mem, GPUs, Gres, Constraint      string
	// Env is the job's whole environment besides Slurm's own variables
	// and a PATH (DefaultPath unless Env sets one): the allow-listed
	// variables, never a secret (SecretEnv names are refused).
	Env map[string]string
	// Platform (os/arch[/variant]) picks the image of an artifact that is
	// an OCI image index, staged by the dispatcher and checked again by
	// the node; "": linux and the dispatcher's architecture
	// (ocibundle.DefaultPlatform).
	Platform string
	// Slipway is the slipway binary on the nodes (absolute).
	Slipway string
	// ContainerRuntime runs an OCI image release's container on the node:
	// "" or "slurm" (srun --container), or "podman" (podman run --rootfs
	// of the root filesystem exec-verified checked and unpacked).
	// ContainerNetwork is the Podman container's network: "" or "none"
	// (loopback only), or "host". Both only for an image.
	ContainerRuntime, ContainerNetwork string
	// SiteContainerRuntime is the runtime an image runs with when
	// ContainerRuntime is "": a site's setting (slipway serve
	// --slurm-container-runtime), so file artifacts ignore it.
	SiteContainerRuntime string
	// PolicyFile is the trust policy on the nodes (absolute) that
	// exec-verified checks the artifact's signatures with; "" checks the
	// digest only.
	PolicyFile string
}

// DefaultPath is the job's PATH when the allow-list does not pass one.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// SecretEnv are variables that hold credentials of the dispatcher: they
// never reach a job, even when allow-listed.
var SecretEnv = []string{"SLIPWAY_TOKEN", "SLURM_JWT", "COSIGN_KEY", "COSIGN_PASSWORD", "GITHUB_TOKEN",
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN", "SIGSTORE_ID_TOKEN", "GPG_PASSPHRASE", "GPG_KEY"}

// Paths of a job in the workdir (JobIDPattern stands for its id).
func jobDir(workdir string) string { return filepath.Join(workdir, "job-"+jobscript.JobIDPattern) }
func statusFile(workdir string) string {
	return filepath.Join(workdir, StateDir, "job-"+jobscript.JobIDPattern+".status")
}
func logFile(workdir, ext string) string {
	return filepath.Join(workdir, StateDir, "job-"+jobscript.JobIDPattern+"."+ext)
}

// JobDir is where job id ran: its checked copy or unpacked files, and its
// outputs.
func JobDir(workdir string, id uint32) string {
	return strings.ReplaceAll(jobDir(workdir), jobscript.JobIDPattern, fmt.Sprint(id))
}

// plan is a job ready to submit.
type plan struct {
	artifact artifact.Record
	argv     []string
	spec     slurm.JobSpec
	// inPlace is the staged file the node checks where it is (under
	// stagingRoot); "" for an archive, which is unpacked.
	inPlace, stagingRoot string
}

// checkStaging refuses, before anything is submitted, a staged file that
// the node's in-place check would refuse: one that another user could
// change (exec-verified --in-place; the job runs as this user).
func (p *plan) checkStaging() error {
	if p.inPlace == "" {
		return nil
	}
	if err := execverified.CheckStaged(p.stagingRoot, p.inPlace); err != nil {
		return fmt.Errorf("the staged artifact would be refused on the node, so nothing was submitted: %w", err)
	}
	return nil
}

// chooseArtifact picks the artifact record to run.
func chooseArtifact(st *Staged, j Job, byDigest string) (artifact.Record, error) {
	arts := st.Manifest.ByRole(artifact.RoleArtifact)
	name := j.Artifact
	if name == "" {
		name = j.Script
	}
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
		switch {
		case name != "" && a.Name == name, name == "" && byDigest != "" && a.Digest.String() == byDigest:
			return a, nil
		}
	}
	switch {
	case name != "":
		return artifact.Record{}, fmt.Errorf("release %q has no artifact %q; its artifacts: %s", st.Release.ID, name, strings.Join(names, ", "))
	case len(arts) == 1:
		return arts[0], nil
	}
	return artifact.Record{}, fmt.Errorf("release %q has %d artifacts (%s): name the one to run with artifact", st.Release.ID, len(arts), strings.Join(names, ", "))
}

// newPlan renders the job script and the job spec for the staged release.
func newPlan(st *Staged, j Job, workdir, byDigest string) (*plan, error) {
	if j.Command != "" && j.Script != "" {
		return nil, fmt.Errorf("give exactly one of command (a command line) and script (an artifact of the release run with /bin/sh)")
	}
	a, err := chooseArtifact(st, j, byDigest)
	if err != nil {
		return nil, err
	}
	image := isImage(a)
	switch {
	case image && j.Script != "":
		return nil, fmt.Errorf("artifact %q is an OCI image: it runs its command (or, none given, its entrypoint) in its container; script does not apply: give command, or nothing", a.Name)
	case !image && j.Command == "" && j.Script == "":
		return nil, fmt.Errorf("give exactly one of command (a command line) and script (an artifact of the release run with /bin/sh)")
	case !image && (j.ContainerRuntime != "" || j.ContainerNetwork != ""):
		return nil, fmt.Errorf("artifact %q is not an OCI image: container-runtime and container-network say how an image's container runs; drop them", a.Name)
	case j.Script != "" && a.Name != j.Script:
		return nil, fmt.Errorf("script %q and artifact %q differ: the script is the artifact that runs; drop artifact", j.Script, a.Name)
	}
	path := artifactFile(st, a)
	var argv []string
	switch {
	case j.Command != "":
		if argv, err = jobscript.SplitCommand(j.Command); err != nil {
			return nil, err
		}
	case !image:
		argv = []string{"/bin/sh", path}
	}
	env := map[string]string{"PATH": DefaultPath}
	for k, v := range j.Env {
		if slices.Contains(SecretEnv, k) {
			return nil, fmt.Errorf("env names %q, a credential of the dispatcher: it never reaches a job; remove it from env", k)
		}
		env[k] = v
	}
	js := jobscript.Spec{
		Slipway: j.Slipway, Artifact: path, Digest: a.Digest.String(), Argv: argv,
		Unpack: !image && (strings.HasSuffix(a.Name, ".tar.gz") || strings.HasSuffix(a.Name, ".tgz")),
		JobDir: jobDir(workdir), StatusFile: statusFile(workdir),
	}
	switch {
	case image:
		js.ImageLayout = imageLayout(st, a)
		if types.MediaType(a.MediaType).IsIndex() {
			p, err := j.platform()
			if err != nil {
				return nil, err
			}
			js.Platform = p.String()
		}
		js.ContainerRuntime, js.ContainerNetwork = j.ContainerRuntime, j.ContainerNetwork
		if js.ContainerRuntime == "" {
			js.ContainerRuntime = j.SiteContainerRuntime
		}
	case !js.Unpack:
		// Checked where it was staged: no copy (exec-verified --in-place);
		// Stage writes every directory from WORKDIR/.slipway down 0755 and
		// each file 0644, one link.
		js.StagingRoot = filepath.Dir(st.Dir)
	}
	if j.PolicyFile != "" {
		js.Policy = j.PolicyFile
		seen := map[string]bool{}
		for _, r := range st.Manifest.Describing(a.Digest) {
			switch r.Role {
			case artifact.RoleSignature, artifact.RoleProvenance, artifact.RoleAttestation:
				if p := filepath.Join(st.Dir, filepath.FromSlash(r.Path)); r.Path != "" && !seen[p] {
					seen[p] = true
					js.Bundles = append(js.Bundles, p)
				}
			}
		}
	}
	script, err := jobscript.Render(js)
	if err != nil {
		return nil, err
	}
	spec := slurm.JobSpec{
		Name: "slipway-" + st.Release.ID, Partition: j.Partition, Account: j.Account, QOS: j.QOS, Cluster: j.Cluster,
		TimeLimit: j.TimeLimit, Nodes: j.Nodes, NTasks: j.NTasks, CPUsPerTask: j.CPUsPerTask,
		Mem: j.Mem, GPUs: j.GPUs, Gres: j.Gres, Constraint: j.Constraint,
		WorkDir: workdir, Stdout: logFile(workdir, "out"), Stderr: logFile(workdir, "err"),
		Env: env, Script: script,
	}
	p := &plan{artifact: a, argv: argv, spec: spec}
	if js.StagingRoot != "" {
		p.inPlace, p.stagingRoot = path, js.StagingRoot
	}
	return p, nil
}
