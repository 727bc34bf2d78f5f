package execverified

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/ocibundle"
)

// Checks of an image job besides the file's: ocibundle's (manifest,
// config, layer, unpack, platform) name what of the staged image failed.
const CheckContainer = "container" // the container bundle could not be made (not about the image's content)

// maxImageManifest bounds the checked manifest read back from the copy.
const maxImageManifest = 4 << 20

// image is the image mode's part of run: File (an image manifest or index
// in the layout ImageLayout) passed its checks and its checked bytes are
// in copy; the image's config and layers are hashed again while they are
// unpacked into the fresh bundle, whose container then runs the command
// (or the image's entrypoint and command) through srun --container (or
// podman run --rootfs with Runtime podman), in the fresh job directory
// mounted at its own path.
func (o *Options) image(ctx context.Context, copy io.ReadSeeker, want digest.SHA256) (argv0 string, argv, env []string, err error) {
	if _, err := copy.Seek(0, io.SeekStart); err != nil {
		return "", nil, nil, refuse(exitcode.Internal, CheckRead, "rereading the checked manifest: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(copy, maxImageManifest+1))
	if err != nil || len(raw) > maxImageManifest {
		return "", nil, nil, refuse(exitcode.NotVerified, CheckRead, "the image manifest %q: not read whole within %d bytes (%v); nothing ran", o.File, maxImageManifest, err)
	}
	runner, err := o.runtimeBinary()
	if err != nil {
		return "", nil, nil, err
	}
	if err := mkdirFresh(o.JobDir); err != nil {
		return "", nil, nil, err
	}
	var platform *v1.Platform
	if o.Platform != "" {
		platform, _ = v1.ParsePlatform(o.Platform) // validateImage parsed it
	}
	b, err := ocibundle.BuildLayout(ctx, ocibundle.LayoutOptions{Layout: o.ImageLayout, Digest: want.String(), Manifest: raw,
		Options: ocibundle.Options{Dir: o.Bundle, Args: o.Argv, WorkDir: o.JobDir, Env: []string{EnvJobDir + "=" + o.JobDir}, Limits: o.Limits, Platform: platform}})
	if err != nil {
		if rerr := os.RemoveAll(o.JobDir); rerr != nil {
			o.Log.Warn("removing the job directory", "dir", o.JobDir, "err", rerr)
		}
		var be *ocibundle.Error
		if errors.As(err, &be) {
			return "", nil, nil, refuse(exitcode.NotVerified, be.Check, "the image %s staged in %q: %v; nothing ran. Stage the release again (slipway dispatch verifies it) and resubmit", want, o.ImageLayout, err)
		}
		return "", nil, nil, refuse(exitcode.Internal, CheckContainer, "making the container bundle %q: %v; nothing ran", o.Bundle, err)
	}
	o.Log.Debug("image unpacked", "digest", b.Digest, "layers", b.Layers, "bytes", b.Bytes, "bundle", b.Dir)
	if o.Runtime == RuntimePodman {
		argv, env = o.podman(runner, b, ownCgroup())
		return runner, argv, env, nil
	}
	// srun's environment is the container's (Slurm merges it over
	// config.json's): the job's allow-listed variables, with the image's
	// PATH, since the host's means nothing inside.
	path := ocibundle.PathOf(b.Env)
	env = slices.DeleteFunc(slices.Clone(o.Env), func(e string) bool { return strings.HasPrefix(e, "PATH=") })
	env = append(env, "PATH="+path, EnvJobDir+"="+o.JobDir)
	argv = append([]string{"srun", "--container=" + o.Bundle, "--"}, b.Args...)
	return runner, argv, env, nil
}

func (o *Options) srun() string {
	if o.Srun != "" {
		return o.Srun
	}
	return "srun"
}

// validateImage checks the options of the image mode.
func (o *Options) validateImage() error {
	usage := func(format string, a ...any) error { return refuse(exitcode.Usage, CheckUsage, format, a...) }
	switch {
	case o.Bundle == "" || o.JobDir == "":
		return usage("--image-layout needs --bundle (a new directory for the container's bundle, node-local) and --job-dir (a new directory, the container's working directory)")
	case o.Copy != "" || o.Unpack != "" || o.InPlace != "":
		return usage("--image-layout with --in-place, --copy or --unpack: an image is unpacked into --bundle, and runs in --job-dir")
	case o.Runtime != "" && o.Runtime != RuntimeSlurm && o.Runtime != RuntimePodman:
		return usage("--container-runtime %q: give slurm (srun --container, the default) or podman (podman run --rootfs)", o.Runtime)
	}
	if o.Platform != "" {
		if p, err := v1.ParsePlatform(o.Platform); err != nil || p.OS == "" || p.Architecture == "" {
			return usage("--platform %q is not os/arch[/variant] (%v); write it like linux/amd64", o.Platform, err)
		}
	}
	return o.validatePodman()
}
