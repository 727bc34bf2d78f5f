package execverified

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/untar"
	"github.com/slipway/actions/internal/verify"
)

// Environment variables set for the command.
const (
	// EnvArtifact is the checked file's path: /dev/fd/N (--in-place, and
	// the sealed in-memory copy without a mode flag) or DIR/<name> (--copy).
	EnvArtifact = "SLIPWAY_ARTIFACT"
	// EnvJobDir is the fresh directory of --in-place, --copy or --unpack.
	EnvJobDir = "SLIPWAY_JOB_DIR"
)

// readSize is the size of each read of the artifact: large reads (with
// posix_fadvise SEQUENTIAL) cost the fewest system calls; 4 MiB used the
// least CPU of 128 KiB to 4 MiB for one SHA-256 pass here.
const readSize = 4 << 20

// Checks named in a refusal (the status file's "check") besides verify's.
const (
	CheckUsage  = "usage"  // the options were wrong
	CheckJobDir = "jobdir" // the fresh directory could not be made
	CheckUnpack = "unpack" // the archive was refused or could not be unpacked
	CheckExec   = "exec"   // the command could not be started
	CheckRead   = "read"   // the artifact could not be read
	// CheckStaging: --in-place found the staged file or a directory above
	// it (up to the staging root) changeable by another user.
	CheckStaging = "staging"
)

// Options are the inputs of Run.
type Options struct {
	// File is the staged artifact and Digest its admitted digest.
	File   string
	Digest string
	// Policy (a trust policy file) and Bundles: check the signatures too.
	// Bundles empty: the bundles next to File (verify.DefaultBundles).
	Policy  string
	Bundles []string
	// InPlace, Copy and Unpack name the fresh directory the command runs in
	// (at most one of them): with InPlace the staged file itself is checked
	// and run through the descriptor it was hashed from, with Copy it is
	// copied there, with Unpack unpacked there as a tar.gz. None: the
	// command gets a sealed in-memory copy.
	InPlace, Copy, Unpack string
	// StagingRoot is, with InPlace, the directory from which down to File
	// no directory may be changeable by another user ("": File's own).
	StagingRoot string
	// ImageLayout says File is an OCI image manifest (or index) in this
	// OCI image layout: once File passed its checks, the image is unpacked
	// into the new directory Bundle (its config and layers hashed again on
	// the way, ocibundle.BuildLayout) and Argv, or the image's entrypoint
	// and command when Argv is empty, runs in the container with Srun
	// --container=Bundle, in the new directory JobDir mounted at its own
	// path.
	ImageLayout, Bundle, JobDir string
	// Platform (os/arch[/variant]) picks the image of an image index File;
	// empty: ocibundle.DefaultPlatform.
	Platform string
	// Srun is the srun to run an image with ("srun" on PATH when empty).
	Srun string
	// Runtime runs the image: RuntimeSlurm ("" too: srun --container) or
	// RuntimePodman (podman run --rootfs of the bundle's root filesystem,
	// Podman the podman binary, "podman" on PATH when empty). Network is
	// the Podman container's network: NetworkNone ("" too) or NetworkHost.
	Runtime, Podman, Network string
	// Status, when set, receives the refusal (API8.md status file).
	Status string
	// JobID is the Slurm job id for the status file ("" outside Slurm).
	JobID string
	// Argv is the command; Env its environment (before EnvArtifact and
	// EnvJobDir are added).
	Argv []string
	Env  []string
	// Limits bound the unpacking (zero: untar's defaults).
	Limits untar.Options
	// Exec replaces the process (syscall.Exec when nil); a test records.
	Exec func(argv0 string, argv, env []string) error
	// Chdir changes the working directory before Exec (os.Chdir when nil).
	Chdir func(string) error
	Now   func() time.Time
	Log   *slog.Logger
}

// RefusedError is why exec-verified refused to run the command: Check names
// what failed (verify's check names, or this package's), Code is the exit
// code.
type RefusedError struct {
	Check  string
	Detail string
	Code   exitcode.Code
}

func (e *RefusedError) Error() string { return e.Detail }

// ExitCode makes the refusal an exitcode carrier (see Error).
func (e *RefusedError) exitError() error { return &exitcode.Error{Code: e.Code, Err: e} }

func refuse(code exitcode.Code, check, format string, a ...any) *RefusedError {
	return &RefusedError{Check: check, Code: code, Detail: fmt.Sprintf(format, a...)}
}

// Run checks the artifact and, when every check passes, replaces the
// process with the command: it returns only on a refusal (an *exitcode.Error
// wrapping a *RefusedError, also written to o.Status) or when Exec returns.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	if o.Status != "" {
		if err := os.Remove(o.Status); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return o.fail(refuse(exitcode.Internal, CheckUsage, "removing the stale status file %q: %v", o.Status, err))
		}
	}
	argv0, argv, env, dir, err := o.run(ctx)
	if err != nil {
		return o.fail(err)
	}
	if dir != "" {
		if err := o.Chdir(dir); err != nil {
			return o.fail(refuse(exitcode.Internal, CheckExec, "entering %q: %v", dir, err))
		}
	}
	if err := o.Exec(argv0, argv, env); err != nil {
		return o.fail(refuse(exitcode.Failed, CheckExec, "running %q: %v; check the command's path and that it is executable", argv[0], err))
	}
	return nil
}

func (o *Options) defaults() {
	if o.Exec == nil {
		o.Exec = syscall.Exec
	}
	if o.Chdir == nil {
		o.Chdir = os.Chdir
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// fail writes the refusal to the status file and returns it as an exit
// code carrier.
func (o *Options) fail(err error) error {
	var re *RefusedError
	if !errors.As(err, &re) {
		re = refuse(exitcode.Of(err), CheckUsage, "%v", err)
	}
	if o.Status != "" {
		if werr := writeStatus(o.Status, o.JobID, re); werr != nil {
			return &exitcode.Error{Code: re.Code, Err: fmt.Errorf("%w (and writing the status file failed: %v)", re, werr)}
		}
	}
	return re.exitError()
}

// run makes every check and returns what to exec.
func (o *Options) run(ctx context.Context) (argv0 string, argv, env []string, chdir string, err error) {
	want, err := o.validate()
	if err != nil {
		return "", nil, nil, "", err
	}
	if o.ImageLayout != "" {
		argv0, argv, env, err := o.runImage(ctx, want)
		return argv0, argv, env, o.JobDir, err
	}
	argv, env = slices.Clone(o.Argv), slices.Clone(o.Env)
	var path string // what the command gets for File
	switch {
	case o.InPlace != "":
		if path, err = o.inPlace(ctx, want); err != nil {
			return "", nil, nil, "", err
		}
		env = append(env, EnvJobDir+"="+o.InPlace)
		chdir = o.InPlace
	case o.Unpack != "":
		if err := o.unpack(ctx, want); err != nil {
			return "", nil, nil, "", err
		}
		env = append(env, EnvJobDir+"="+o.Unpack)
		chdir = o.Unpack
	default:
		if path, err = o.copied(ctx, want); err != nil {
			return "", nil, nil, "", err
		}
		if o.Copy != "" {
			env = append(env, EnvJobDir+"="+o.Copy)
			chdir = o.Copy // the command runs where its copy is, as after --unpack
		}
	}
	if path != "" {
		replaceArg(argv, o.File, path)
		env = append(env, EnvArtifact+"="+path)
	}
	argv0, err = lookPath(argv[0], chdir)
	if err != nil {
		return "", nil, nil, "", refuse(exitcode.Failed, CheckExec, "command %q: %v; give its absolute path or put it on PATH", argv[0], err)
	}
	return argv0, argv, env, chdir, nil
}

// inPlace checks the staged file where it is (openStaged: nobody but this
// user or root can change it) and hashes it through the descriptor the
// command then gets, as /dev/fd/N (exec'd through it when it is the
// command): a name swapped after the hash changes nothing that runs.
func (o *Options) inPlace(ctx context.Context, want digest.SHA256) (string, error) {
	root := o.StagingRoot
	if root == "" {
		root = filepath.Dir(o.File)
	}
	f, err := openStaged(root, o.File, os.Geteuid())
	if err != nil {
		return "", refuse(exitcode.NotVerified, CheckStaging, "%v; nothing ran", err)
	}
	adviseSequential(f)
	if _, err := o.check(ctx, f, nil, want); err != nil {
		f.Close()
		return "", err
	}
	o.Log.Debug("artifact verified in place", "file", o.File, "digest", want)
	if err := mkdirFresh(o.InPlace); err != nil {
		f.Close()
		return "", err
	}
	fd, err := inheritable(f)
	if err != nil {
		removeDir(o.InPlace)
		return "", refuse(exitcode.Internal, CheckExec, "%v", err)
	}
	path := "/dev/fd/" + strconv.Itoa(fd)
	// DIR/<name> leads to the same descriptor, as --copy's copy was named:
	// "./name" works for the command and whatever inherits its descriptors.
	if err := os.Symlink(path, filepath.Join(o.InPlace, filepath.Base(o.File))); err != nil {
		syscall.Close(fd)
		removeDir(o.InPlace)
		return "", refuse(exitcode.Internal, CheckJobDir, "naming the checked file in the job directory: %v", err)
	}
	return path, nil
}

// unpack hashes the tar.gz and unpacks it into the fresh directory in one
// streaming pass; the directory is removed unless every check passed and
// the archive unpacked.
func (o *Options) unpack(ctx context.Context, want digest.SHA256) error {
	f, err := regfile.Open(o.File)
	if err != nil {
		return refuse(exitcode.NotVerified, CheckRead, "the staged artifact: %v; nothing ran", err)
	}
	defer f.Close()
	adviseSequential(f)
	if err := mkdirFresh(o.Unpack); err != nil {
		return err
	}
	u := startUnpack(ctx, o.Unpack, o.Limits)
	_, cerr := o.check(ctx, f, u, want)
	uerr := u.finish()
	switch {
	case cerr != nil:
		removeDir(o.Unpack)
		return cerr
	case uerr != nil:
		removeDir(o.Unpack)
		return o.unpackRefusal(uerr)
	}
	o.Log.Debug("verified and unpacked", "file", o.File, "digest", want, "dir", o.Unpack)
	return nil
}

// copied reads the staged file once into the checks and a private copy
// (--copy DIR, or a sealed memfd) and returns the copy's path.
func (o *Options) copied(ctx context.Context, want digest.SHA256) (string, error) {
	dst, mode, err := o.checkedCopy(ctx, want)
	if err != nil {
		return "", err
	}
	defer dst.close()
	if o.Copy != "" {
		path, err := dst.finish(mode)
		if err != nil {
			dst.discard()
			return "", err
		}
		return path, nil
	}
	fd, err := sealReadOnly(dst.f)
	dst.f = nil
	if err != nil {
		return "", refuse(exitcode.Internal, CheckExec, "passing the checked copy on: %v", err)
	}
	return "/dev/fd/" + strconv.Itoa(fd), nil
}

// runImage checks the image manifest File as any file, into an in-memory
// copy, and builds and runs the image from that copy (image).
func (o *Options) runImage(ctx context.Context, want digest.SHA256) (argv0 string, argv, env []string, err error) {
	dst, _, err := o.checkedCopy(ctx, want)
	if err != nil {
		return "", nil, nil, err
	}
	defer dst.close()
	return o.image(ctx, dst.f, want)
}

// checkedCopy reads the staged file once into the checks and the
// destination; it returns the destination (the caller closes it) and the
// staged file's mode.
func (o *Options) checkedCopy(ctx context.Context, want digest.SHA256) (*destination, fs.FileMode, error) {
	f, err := regfile.Open(o.File)
	if err != nil {
		return nil, 0, refuse(exitcode.NotVerified, CheckRead, "the staged artifact: %v; nothing ran", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, 0, refuse(exitcode.Internal, CheckRead, "reading %q: %v", o.File, err)
	}
	adviseSequential(f)
	dst, err := o.destination()
	if err != nil {
		return nil, 0, err
	}
	if _, err := o.check(ctx, f, dst.tee(), want); err != nil {
		dst.discard()
		return nil, 0, err
	}
	o.Log.Debug("artifact verified", "file", o.File, "digest", want)
	return dst, before.Mode(), nil
}

func (o *Options) validate() (digest.SHA256, error) {
	usage := func(format string, a ...any) (digest.SHA256, error) {
		return digest.SHA256{}, refuse(exitcode.Usage, CheckUsage, format, a...)
	}
	want, err := digest.Parse(o.Digest)
	switch {
	case err != nil:
		return usage("--digest %q: %v; give the admitted digest as sha256:<64 hex digits>", o.Digest, err)
	case o.File == "":
		return usage("no --file: give the staged artifact")
	case countSet(o.InPlace, o.Copy, o.Unpack) > 1:
		return usage("more than one of --in-place, --copy and --unpack: give one (--unpack for a tar.gz, --in-place or --copy for any other file)")
	case o.StagingRoot != "" && o.InPlace == "":
		return usage("--staging-root without --in-place: it says which directories the in-place check covers; give --in-place DIR too")
	case len(o.Bundles) > 0 && o.Policy == "":
		return usage("--bundles without --policy: the signatures are checked against a trust policy; give it")
	case o.Platform != "" && o.ImageLayout == "":
		return usage("--platform without --image-layout: it picks the image of an image index; drop it, or give the layout")
	case o.ImageLayout == "" && (o.Runtime != "" || o.Network != ""):
		return usage("--container-runtime or --container-network without --image-layout: they say how an image runs; drop them for a file or an archive")
	case o.ImageLayout != "":
		if len(o.Argv) > 0 && o.Argv[0] == "" {
			return usage("an empty command after --: give the command to run in the image, or none for its entrypoint and command")
		}
		return want, o.validateImage()
	case len(o.Argv) == 0 || o.Argv[0] == "":
		return usage("no command after --: give the command to run once the artifact is verified")
	}
	return want, nil
}

// check reads f once, into the hash (and verify's signature checks) and
// into tee, and refuses unless its digest is want and, with a policy, the
// signatures verify.
func (o *Options) check(ctx context.Context, f *os.File, tee io.Writer, want digest.SHA256) (digest.SHA256, error) {
	var got digest.SHA256
	if o.Policy == "" {
		sum := digest.New()
		var dst io.Writer = sum
		var fan *digest.Fanout
		if tee != nil {
			fan = digest.NewFanout(sum, tee)
			dst = fan
		}
		_, err := io.CopyBuffer(dst, digest.ContextReader(ctx, f), make([]byte, readSize))
		if fan != nil {
			fan.Close()
		}
		if err != nil {
			return got, refuse(exitcode.Internal, CheckRead, "reading %q: %v; nothing ran", o.File, err)
		}
		got = sum.Digest()
	} else {
		pol, err := policy.Load(o.Policy)
		if err != nil {
			return got, refuse(exitcode.Usage, CheckUsage, "--policy: %v", err)
		}
		rep, err := verify.New(pol, verify.WithClock(o.Now), verify.WithLogger(o.Log)).Verify(ctx, []verify.Subject{{
			Name: filepath.Base(o.File), Path: o.File, Reader: f, Tee: tee, Digest: want, Bundles: o.Bundles,
		}})
		if err != nil {
			return got, refuse(exitcode.Internal, CheckRead, "verifying %q: %v; nothing ran", o.File, err)
		}
		sr := rep.Subjects[0]
		if got, err = digest.Parse(sr.Digest); err != nil {
			return got, refuseFirst(rep, o.File)
		}
		if got == want && !rep.Verified {
			return got, refuseFirst(rep, o.File)
		}
	}
	if got != want {
		return got, refuse(exitcode.NotVerified, verify.CheckDigest,
			"the staged artifact %q is %s on this node, but the admitted digest is %s: it changed after it was verified at submit; nothing ran. Stage the release again (slipway dispatch verifies it) and resubmit", o.File, got, want)
	}
	return got, nil
}

// refuseFirst refuses with the report's first failed check.
func refuseFirst(rep *verify.Report, file string) error {
	failed := rep.Failed()
	if len(failed) == 0 {
		return refuse(exitcode.NotVerified, verify.CheckSignature, "%q is not verified under the policy; nothing ran", file)
	}
	c := failed[0]
	return refuse(exitcode.NotVerified, c.Check, "%q is not verified under the policy: %s; nothing ran", file, c.Line())
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

func replaceArg(argv []string, from, to string) {
	for i, a := range argv {
		if a == from {
			argv[i] = to
		}
	}
}

// lookPath resolves the command's first word as execvp would: a word with a
// slash is a path (relative to dir when set), any other is looked up on PATH.
func lookPath(name, dir string) (string, error) {
	if filepath.Base(name) != name {
		p := name
		if dir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("%q is not an executable file", p)
		}
		return p, nil
	}
	return exec.LookPath(name)
}
