package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/slurm/follow"
	"github.com/slipway/actions/internal/slurm/rest"
	"github.com/slipway/actions/internal/upload"
	"github.com/slipway/actions/internal/version"
)

// dispatchCommand is the slurm-dispatch stage: options → dispatch.Run →
// job-id, state, exit-code, elapsed, output-provenance. Its action is
// actions/slurm-dispatch.
type dispatchCommand struct {
	net                                  netFlags
	server, token, release, manifest     string
	audience                             string
	receipt, policy, workdir, builderID  string
	command, script, artifact            string
	partition, account, qos, cluster     string
	timeLimit, nodes, ntasks, cpus       string
	mem, gpus, gres, constraint, slipway string
	platform                             string
	backend, restURL, restUser           string
	containerRuntime, containerNetwork   string
	env, outputs                         []string
	sigstore                             signing.Config
	deploy                               deploymentFlags
}

func (c *dispatchCommand) Name() string       { return "dispatch" }
func (c *dispatchCommand) ActionName() string { return "slurm-dispatch" }
func (c *dispatchCommand) Short() string {
	return "Run an admitted release on a Slurm cluster: fetch it from the control plane, verify it with its receipt before submitting, check it again on the compute node, follow the job, and sign SLSA provenance of its outputs chained to the release."
}

func (c *dispatchCommand) Inputs() []input.Input {
	ins := []input.Input{
		input.String(&c.server, input.Spec{Name: "server", Env: "SLIPWAY_SERVER",
			Description: "The control plane's base URL (https://slipway.example.org; plain http only to a loopback address): the release is fetched from it, the dispatch recorded in its log, and the outputs uploaded to it."}),
		input.String(&c.token, input.Spec{Name: "token", Env: "SLIPWAY_TOKEN", Secret: true,
			Description: "A service token with scopes read and dispatch (and upload, to upload the outputs), for server. Without one, inside a job with permissions: id-token: write, a GitHub Actions OIDC ID token for audience is sent instead (the server's uploader rules must allow the job for the release's repository). Neither reaches the job."}),
		input.String(&c.audience, input.Spec{Name: "audience",
			Description: "The audience of the OIDC ID token, as the server is configured to require (its oidc-audience); empty for the server input."}),
		input.String(&c.release, input.Spec{Name: "release",
			Description: "The release to run: its ID (r- and 16 hex digits) or the digest of one of its artifacts (sha256:HEX), as the control plane knows it. Exactly one of release and manifest."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "Instead of release: a manifest slipway upload recorded its receipts in (mcp-upload's), with its files in the workspace; verified against the policy's log key, without asking the server for the release."}),
		input.String(&c.receipt, input.Spec{Name: "receipt",
			Description: "With manifest: the release's receipt; by default the one its receipt records name."}),
		input.String(&c.policy, input.Spec{Name: "policy", Required: true,
			Description: policyDescription + " The release must pass it (with its receipt) before anything is submitted, and the compute node checks the artifact's signatures against it again: keep it where the nodes read it too."}),
		input.String(&c.workdir, input.Spec{Name: "workdir", Required: true,
			Description: "The job's working directory on the shared filesystem (absolute): the release is staged in WORKDIR/.slipway, the job runs in WORKDIR/job-ID."}),
		input.String(&c.command, input.Spec{Name: "command",
			Description: "The command to run, split into words without a shell (quotes allowed; $, `, ;, |, &, <, >, globs refused unquoted); it runs in the job's directory, where the checked artifact was copied (or unpacked, for a tar.gz). Exactly one of command and script; for an OCI image artifact, the command runs in its container with srun --container, or Podman with container-runtime podman (none: the image's entrypoint and command)."}),
		input.String(&c.script, input.Spec{Name: "script",
			Description: "An artifact of the release (its name) to run with /bin/sh once the node checked it; nothing that was not admitted runs."}),
		input.String(&c.artifact, input.Spec{Name: "artifact",
			Description: "The release's artifact to check and run (its name); needed when the release has several and release is an ID."}),
		input.String(&c.partition, input.Spec{Name: "partition", Description: "The Slurm partition (--partition)."}),
		input.String(&c.account, input.Spec{Name: "account", Description: "The Slurm account (--account)."}),
		input.String(&c.qos, input.Spec{Name: "qos", Description: "The Slurm QOS (--qos)."}),
		input.String(&c.timeLimit, input.Spec{Name: "time-limit", Description: "The job's time limit: minutes (30) or a duration (1h30m), rounded up to whole minutes; empty for the partition's default."}),
		input.String(&c.nodes, input.Spec{Name: "nodes", Description: "Number of nodes (--nodes)."}),
		input.String(&c.ntasks, input.Spec{Name: "ntasks", Description: "Number of tasks (--ntasks)."}),
		input.String(&c.cpus, input.Spec{Name: "cpus-per-task", Description: "CPUs per task (--cpus-per-task)."}),
		input.String(&c.mem, input.Spec{Name: "mem", Description: "Memory per node in Slurm's --mem syntax (512M, 4G)."}),
		input.String(&c.gpus, input.Spec{Name: "gpus", Description: "GPUs (--gpus: 2 or a100:2)."}),
		input.String(&c.gres, input.Spec{Name: "gres", Description: "Generic resources (--gres: gpu:a100:2)."}),
		input.String(&c.constraint, input.Spec{Name: "constraint", Description: "Node features (--constraint)."}),
		input.String(&c.platform, input.Spec{Name: "platform", Description: "For an image release whose artifact is an OCI image index: the nodes' platform (os/arch[/variant]) whose image is staged and run; default linux and the dispatcher's architecture."}),
		input.String(&c.containerRuntime, input.Spec{Name: "container-runtime",
			Description: "For an OCI image release, what runs its container on the node once exec-verified checked and unpacked it: slurm (srun --container, the site's oci.conf) or podman (podman run --rootfs of the verified root filesystem; nothing pulled). Empty: slurm."}),
		input.String(&c.containerNetwork, input.Spec{Name: "container-network",
			Description: "With container-runtime podman: the container's network, none (loopback only) or host. Empty: none."}),
		input.List(&c.env, input.Spec{Name: "env",
			Description: "Names of environment variables passed to the job with their values here (an allow-list; nothing else of this environment reaches it, and credentials such as SLIPWAY_TOKEN and SLURM_JWT never do)."}),
		input.List(&c.outputs, input.Spec{Name: "outputs",
			Description: "Globs of the files the job produces, relative to its directory: each is hashed once, described by signed SLSA provenance chained to the release, and uploaded to server."}),
		input.String(&c.backend, input.Spec{Name: "backend", Default: "cli",
			Description: "How to reach Slurm: cli (sbatch, squeue, scontrol, scancel) or rest (slurmrestd, JWT from SLURM_JWT or scontrol token)."}),
		input.String(&c.cluster, input.Spec{Name: "cluster", Description: "The Slurm cluster (--clusters); empty for the local one."}),
		input.String(&c.restURL, input.Spec{Name: "rest-url", Default: "http://127.0.0.1:6820", Description: "With backend rest: slurmrestd's URL."}),
		input.String(&c.restUser, input.Spec{Name: "rest-user", Description: "With backend rest: the Slurm user the JWT belongs to; empty for the current user."}),
		input.String(&c.slipway, input.Spec{Name: "slipway",
			Description: "The slipway binary on the compute nodes (absolute path), which checks the artifact again before it runs; empty for this one's path."}),
		input.String(&c.builderID, input.Spec{Name: "builder-id",
			Description: "The headnode runner's configured builder ID (a URI): the builder of the outputs' provenance; required with outputs."}),
	}
	ins = append(ins, signerInputs(&c.sigstore)...)
	ins = append(ins, c.deploy.inputs()...)
	return append(ins, c.net.inputs()...)
}

func (c *dispatchCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "job-id", Description: "The Slurm job ID."},
		{Name: "state", Description: "The job's final state (COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, PREEMPTED, …)."},
		{Name: "exit-code", Description: "The job script's exit status (128 + the signal for a job ended by a signal; -1 when unknown)."},
		{Name: "elapsed", Description: "Seconds from the job's start to its end."},
		{Name: "output-provenance", Description: "Path of the signed SLSA provenance of the outputs, when outputs were declared and the job ran, also when it failed (its final state and exit code are in the provenance; slipway verify refuses such outputs unless allow-failed-jobs is set)."},
		{Name: "outputs-manifest", Description: "Path of the outputs manifest (the outputs and their provenance), which slipway verify checks back to the release."},
	}
}

func (c *dispatchCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	o, err := c.options(ctx, rt)
	if err != nil {
		return err
	}
	dep, err := c.deploy.start(ctx, rt, c.what(), o)
	if err != nil {
		return err
	}
	var res *dispatch.Result
	err = rt.Group("slipway dispatch: "+c.what()+" on slurm ("+c.backend+")", func() error {
		res, err = dispatch.Run(ctx, *o)
		return err
	})
	finishDeployment(ctx, rt, dep, res, err)
	if res != nil && res.JobID != 0 {
		outs := res.Result.Outputs()
		if res.OutputProvenance != "" {
			outs = append(outs, [2]string{"output-provenance", res.OutputProvenance}, [2]string{"outputs-manifest", res.OutputsManifest})
		}
		for _, kv := range outs {
			if oerr := rt.Output(kv[0], kv[1]); oerr != nil {
				return oerr
			}
		}
		if serr := rt.Report.Summary(dispatchSummary(res)); serr != nil && err == nil {
			err = serr
		}
	}
	return dispatchError(err)
}

// what names the release for the log.
func (c *dispatchCommand) what() string {
	if c.release != "" {
		return "release " + c.release
	}
	return c.manifest
}

// options turns the inputs into dispatch's options.
func (c *dispatchCommand) options(ctx context.Context, rt *Runtime) (*dispatch.Options, error) {
	if (c.release == "") == (c.manifest == "") {
		return nil, exitcode.BadInputf("give one of release (an ID or digest known to server) and manifest (mcp-upload's, with its receipt)")
	}
	if c.release != "" && c.server == "" {
		return nil, exitcode.BadInputf("release %q is fetched from the control plane: give server", c.release)
	}
	if err := rt.checkInside("manifest", c.manifest, "receipt", c.receipt); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(c.workdir) {
		return nil, exitcode.BadInputf("input \"workdir\": %q is not absolute; give the job's directory on the shared filesystem, starting with /", c.workdir)
	}
	p, err := policy.Load(rt.path(c.policy))
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(err), c.policy)
	}
	job, err := c.job(rt)
	if err != nil {
		return nil, err
	}
	src := dispatch.Source{Release: c.release, Manifest: c.manifest, Receipt: c.receipt, Dir: rt.Dir}
	if c.server != "" {
		if src.Server, err = upload.ServerURL(c.server); err != nil {
			return nil, exitcode.BadInput(err)
		}
		tokens, how, err := controlPlaneTokens(rt, c.token, c.audience, c.server, errNoDispatchCredentials)
		if err != nil {
			return nil, err
		}
		rt.Log.Info("authenticating to the control plane", "with", how)
		src.Token, src.HTTP = tokens, rt.Net.Client("control plane")
	}
	backend, err := c.slurmBackend(rt)
	if err != nil {
		return nil, err
	}
	o := &dispatch.Options{
		Stage:   dispatch.StageOptions{Source: src, Workdir: filepath.Clean(c.workdir), Policy: p, Log: rt.Log},
		Job:     job,
		Outputs: c.outputs, Backend: backend, BuilderID: c.builderID, Version: version.String(), Out: rt.Stderr,
		Follower: follow.New(backend, follow.Options{Logger: rt.Log, Untrusted: untrustedLog(rt)}), Registry: registryOptions(ctx, rt),
		Run: dispatch.RunIdentity{RunID: rt.Getenv("GITHUB_RUN_ID"), Attempt: rt.Getenv("GITHUB_RUN_ATTEMPT"), Job: rt.Getenv("GITHUB_JOB")},
	}
	if err := dispatch.CheckGlobs(c.outputs); err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"outputs\": %w", err))
	}
	if len(c.outputs) > 0 {
		if c.builderID == "" {
			return nil, exitcode.BadInputf("outputs are attested with the headnode runner's builder ID: give builder-id (a URI)")
		}
		if !c.sigstore.Enabled() {
			return nil, exitcode.BadInputf("outputs are attested: give a signing key (key, the %s secret, or keyless: true)", signing.KeyEnv)
		}
		if err := c.sigstore.Validate(); err != nil {
			return nil, err
		}
		maskKeyEnv(rt, c.sigstore)
		env := signingEnv(rt)
		o.Signer = signing.Start(ctx, c.sigstore.Options(env, c.sigstore.Tokens(env)), nil)
		if src.Server != nil {
			o.Upload = func(ctx context.Context, manifest string) error {
				_, err := upload.Upload(ctx, upload.Options{Server: c.server, Manifest: manifest, Dir: o.Stage.Workdir,
					Token: src.Token, HTTP: rt.Net.Client("control plane"), Log: rt.Log})
				return err
			}
		}
	}
	return o, nil
}

var errNoDispatchCredentials = exitcode.BadInputf("no credentials for the control plane: set SLIPWAY_TOKEN (the token input) to a token with scopes read and dispatch, or run in a GitHub Actions job with \"permissions: id-token: write\" to send an OIDC ID token (set audience to the server's oidc-audience)")

// job reads the job's inputs.
func (c *dispatchCommand) job(rt *Runtime) (dispatch.Job, error) {
	j := dispatch.Job{Command: c.command, Script: c.script, Artifact: c.artifact, Partition: c.partition, Account: c.account,
		QOS: c.qos, Cluster: c.cluster, Mem: c.mem, GPUs: c.gpus, Gres: c.gres, Constraint: c.constraint, Platform: c.platform, Slipway: c.slipway,
		ContainerRuntime: c.containerRuntime, ContainerNetwork: c.containerNetwork}
	if j.Command != "" && j.Script != "" {
		return j, exitcode.BadInputf("give exactly one of command (a command line) and script (an artifact of the release, run with /bin/sh); for an OCI image, command or nothing (its entrypoint)")
	}
	var err error
	if j.TimeLimit, err = parseTimeLimit(c.timeLimit); err != nil {
		return j, err
	}
	for _, n := range []struct {
		name, v string
		p       *int
	}{{"nodes", c.nodes, &j.Nodes}, {"ntasks", c.ntasks, &j.NTasks}, {"cpus-per-task", c.cpus, &j.CPUsPerTask}} {
		if n.v == "" {
			continue
		}
		if *n.p, err = strconv.Atoi(n.v); err != nil || *n.p < 1 {
			return j, exitcode.BadInputf("input %q: %q is not a positive whole number", n.name, n.v)
		}
	}
	if j.Slipway == "" {
		if j.Slipway, err = os.Executable(); err != nil {
			return j, exitcode.Infra(fmt.Errorf("finding this slipway binary for the nodes: %w; give slipway", err))
		}
	}
	if j.PolicyFile, err = filepath.Abs(rt.path(c.policy)); err != nil {
		return j, exitcode.BadInput(err)
	}
	j.Env = map[string]string{}
	for _, name := range c.env {
		v, ok := lookupEnv(rt, name)
		if !ok {
			return j, exitcode.BadInputf("input \"env\" names %q, which is not set here; set it, or remove it from env", name)
		}
		j.Env[name] = v
	}
	return j, nil
}

// lookupEnv reads name from the runtime's environment; an empty value
// counts as unset (Getenv cannot tell them apart).
func lookupEnv(rt *Runtime, name string) (string, bool) {
	v := rt.Getenv(name)
	return v, v != ""
}

// parseTimeLimit reads minutes ("30") or a Go duration ("1h30m").
func parseTimeLimit(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Minute, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, exitcode.BadInputf("input \"time-limit\": %q is neither minutes (30) nor a duration (1h30m)", s)
	}
	return d, nil
}

// dispatchError gives dispatch's errors their exit codes.
func dispatchError(err error) error {
	var ce *exitcode.Error
	var refused *dispatch.RefusedError
	var limit *dispatch.LimitError
	var unauthorized *dispatch.AuthorizationError
	var cancelled *follow.CancelledError
	switch {
	case err == nil, errors.As(err, &ce):
		return err
	case errors.As(err, &refused), errors.As(err, &limit), errors.As(err, &unauthorized):
		return exitcode.Failure(err)
	case errors.As(err, &cancelled):
		return err
	}
	return exitcode.Infra(err)
}

func dispatchSummary(res *dispatch.Result) action.Summary {
	sum := action.Summary{Title: fmt.Sprintf("Slurm job %d", res.JobID)}
	if res.Staged != nil {
		sum.Rows = append(sum.Rows, action.Row{Name: res.Staged.Release.ID, Role: "release (verified, receipt checked)", Digest: res.Staged.Release.ManifestDigest, Size: -1})
	}
	for _, r := range res.Outputs {
		sum.Rows = append(sum.Rows, action.Row{Name: r.Name, Role: "output", Digest: r.Digest.String(), Size: r.Size})
	}
	how := "submitted"
	if res.Reattached {
		how = "found again by its idempotency key (not submitted twice)"
	}
	sum.Notes = append(sum.Notes, fmt.Sprintf("Job %d %s; it ended %s with exit code %d after %s.", res.JobID, how, res.State, res.ExitCode, res.Elapsed))
	if res.Reason != "" && res.Reason != "None" {
		sum.Notes = append(sum.Notes, "Reason: "+res.Reason)
	}
	if res.Authorized != nil {
		sum.Notes = append(sum.Notes, fmt.Sprintf("Authorized by the control plane before submission: authorization %s, log entry %d.", res.Authorized.AuthorizationID, res.Authorized.LogIndex))
	}
	if res.Recorded != nil {
		sum.Notes = append(sum.Notes, fmt.Sprintf("Recorded at the control plane: dispatch %s, log entry %d.", res.Recorded.DispatchID, res.Recorded.LogIndex))
	}
	if res.OutputProvenance != "" {
		sum.Notes = append(sum.Notes, "Output provenance: "+res.OutputProvenance+" (slipway verify --manifest "+res.OutputsManifest+" follows it back to the release).")
	}
	return sum
}

// slurmBackend makes the backend the inputs name. slurmrestd's JWT comes
// from SLURM_JWT, never from a flag.
func (c *dispatchCommand) slurmBackend(rt *Runtime) (slurm.Backend, error) {
	switch c.backend {
	case "cli":
		return slurmcli.New(slurmcli.Options{Cluster: c.cluster, Getenv: rt.Getenv}), nil
	case "rest":
		jwt := rt.Getenv("SLURM_JWT")
		if jwt == "" {
			return nil, exitcode.BadInputf("backend rest needs slurmrestd's JWT in SLURM_JWT (scontrol token username=USER lifespan=SECONDS prints it)")
		}
		rt.Report.Mask(jwt)
		u := c.restUser
		if u == "" {
			cur, err := user.Current()
			if err != nil {
				return nil, exitcode.Infra(fmt.Errorf("the current user for slurmrestd: %w; give rest-user", err))
			}
			u = cur.Username
		}
		return rest.New(rest.Options{URL: c.restURL, User: u, Token: func(context.Context) (string, error) { return jwt, nil },
			HTTPClient: rt.Net.Client("slurmrestd")}), nil
	}
	return nil, exitcode.BadInputf("input \"backend\": %q is neither cli nor rest", c.backend)
}

// untrustedLog fences a job's log streamed into a GitHub Actions step, so
// that what the job prints cannot act as a workflow command of the step
// (::set-output::, ::add-mask::); on the command line it is written as is.
func untrustedLog(rt *Runtime) func(io.Writer) (io.Writer, func() error) {
	if !rt.InActions {
		return nil
	}
	return action.StopCommands
}
