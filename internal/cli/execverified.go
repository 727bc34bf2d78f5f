package cli

import (
	"context"
	"os"

	"github.com/slipway/actions/internal/execverified"
	"github.com/slipway/actions/internal/input"
)

// execVerifiedCommand is "slipway exec-verified": the first command of a
// dispatched job (internal/jobscript writes it). A command-line command, not
// an action; no input falls back to the environment.
type execVerifiedCommand struct {
	o    execverified.Options
	argv []string
}

func (c *execVerifiedCommand) commandLineOnly() {}
func (c *execVerifiedCommand) Name() string     { return "exec-verified" }
func (c *execVerifiedCommand) Short() string {
	return "On the compute node: hash the staged artifact again, compare it with the admitted digest, check its signatures against the trust policy when given, unpack a tar.gz into a fresh directory when asked, and only then run the command (exec, no shell). A refusal exits 65 and names both digests."
}

func (c *execVerifiedCommand) Long() string {
	return `Usage: slipway exec-verified --digest sha256:HEX --file F [--policy P --bundles B,...]
         [--in-place DIR [--staging-root R] | --copy DIR | --unpack DIR] [--status FILE] -- CMD ARGS...
       slipway exec-verified --digest sha256:HEX --file LAYOUT/blobs/sha256/HEX [--policy P --bundles B,...]
         --image-layout LAYOUT --bundle NEWDIR --job-dir NEWDIR
         [--container-runtime slurm|podman [--container-network none|host]] [--status FILE] -- [CMD ARGS...]

The artifact is read once, into the hash, through one open file; what runs is what that read saw.
--in-place DIR: no copy. F and every directory from R (default: F's directory) down to it must
belong to you or root and not be writable by group or others, F must have one link; the command
gets the descriptor that was hashed: each argument equal to F becomes /dev/fd/N (a command that
is F is exec'd through it; DIR/<name of F> links to it). Without a mode flag the copy is sealed in memory (/dev/fd/N);
with --copy it is DIR/<name of F>; with --unpack the tar.gz is unpacked into DIR while it is
hashed, and removed on a refusal. DIR is created (it must not exist) and the command runs there.
The command gets SLIPWAY_ARTIFACT (the checked file) and SLIPWAY_JOB_DIR (DIR).
With --image-layout, F is an OCI image manifest (or index) in that OCI image layout: once F passed
its checks, the image's config and every layer are read from the layout, hashed again and unpacked
into a fresh root filesystem in --bundle, and the command (or, none given, the image's entrypoint
and command) runs in the container with srun --container=BUNDLE, in --job-dir mounted at its own
path as the working directory. A layer that is not the manifest's refuses the job (check "layer").
With --container-runtime podman the verified root filesystem runs with podman run --rootfs instead
(read-only, nothing pulled, no network unless --container-network host, the job's variables passed
by name, the container inside the job's cgroup).
A refusal is also written to --status as the job's status file (check, detail, exit code 65).`
}

func (c *execVerifiedCommand) ArgsUse() string { return "-- CMD [ARGS...]" }

func (c *execVerifiedCommand) SetArgs(args []string) error {
	c.argv = args
	return nil
}

func (c *execVerifiedCommand) Inputs() []input.Input {
	o := &c.o
	return []input.Input{
		input.String(&o.Digest, input.Spec{Name: "digest", Required: true,
			Description: "The admitted digest of the artifact (sha256:<64 hex digits>)."}),
		input.String(&o.File, input.Spec{Name: "file", Required: true,
			Description: "The staged artifact on the shared filesystem."}),
		input.String(&o.Policy, input.Spec{Name: "policy",
			Description: "A trust policy: check the artifact's signatures under it too."}),
		input.List(&o.Bundles, input.Spec{Name: "bundles",
			Description: "Sigstore bundles and OpenPGP signatures of the artifact (with policy; default: those next to the file)."}),
		input.String(&o.InPlace, input.Spec{Name: "in-place",
			Description: "A directory to create (it must not exist) where the command runs: the staged file itself is checked (owner, mode, links, directories) and used through the descriptor that was hashed; nothing is copied."}),
		input.String(&o.StagingRoot, input.Spec{Name: "staging-root",
			Description: "With in-place: the directory from which down to the file no directory may be writable by another user (default: the file's directory)."}),
		input.String(&o.Copy, input.Spec{Name: "copy",
			Description: "A directory to create (it must not exist): the checked copy goes there instead of into memory, and the command uses it."}),
		input.String(&o.Unpack, input.Spec{Name: "unpack",
			Description: "A directory to create (it must not exist): the artifact, a tar.gz, is unpacked there while it is hashed (removed on a refusal), and the command runs there once checked."}),
		input.String(&o.ImageLayout, input.Spec{Name: "image-layout",
			Description: "The OCI image layout the image manifest --file is in: its config and layers are checked and unpacked into --bundle, and the command runs in that container with srun --container."}),
		input.String(&o.Bundle, input.Spec{Name: "bundle",
			Description: "With image-layout: the container bundle's directory to create (it must not exist; node-local)."}),
		input.String(&o.JobDir, input.Spec{Name: "job-dir",
			Description: "With image-layout: the job directory to create (it must not exist), mounted into the container at its own path as its working directory."}),
		input.String(&o.Platform, input.Spec{Name: "platform",
			Description: "With image-layout: the platform (os/arch[/variant]) whose image to run when --file is an image index (default linux and this machine's architecture)."}),
		input.String(&o.Runtime, input.Spec{Name: "container-runtime",
			Description: "With image-layout: what runs the container: slurm (srun --container, the default) or podman (podman run --rootfs of the verified root filesystem)."}),
		input.String(&o.Network, input.Spec{Name: "container-network",
			Description: "With container-runtime podman: the container's network, none (the default: loopback only) or host."}),
		input.String(&o.Status, input.Spec{Name: "status",
			Description: "The job's status file: a refusal is written there (JSON: verified false, check, detail, exit code)."}),
	}
}

func (c *execVerifiedCommand) Outputs() []input.Output { return nil }

func (c *execVerifiedCommand) Run(ctx context.Context, rt *Runtime) error {
	o := c.o
	for _, p := range []*string{&o.File, &o.Policy, &o.InPlace, &o.StagingRoot, &o.Copy, &o.Unpack, &o.Status, &o.ImageLayout, &o.Bundle, &o.JobDir} {
		if *p != "" {
			*p = rt.path(*p)
		}
	}
	for i, b := range o.Bundles {
		o.Bundles[i] = rt.path(b)
	}
	o.Argv = c.argv
	o.Env = os.Environ()
	o.JobID = rt.Getenv("SLURM_JOB_ID")
	o.Now = rt.Now
	o.Log = rt.Log
	return execverified.Run(ctx, o)
}
