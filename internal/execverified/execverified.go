package execverified

import (
	"compress/gzip"
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
	// EnvArtifact is the checked copy's path: DIR/<name> (--copy) or
	// /dev/fd/N (in memory: neither --copy nor --unpack).
	EnvArtifact = "SLIPWAY_ARTIFACT"
	// EnvJobDir is the fresh directory of --copy or --unpack.
	EnvJobDir = "SLIPWAY_JOB_DIR"
)

// Checks named in a refusal (the status file's "check") besides verify's.
const (
	CheckUsage  = "usage"  // the options were wrong
	CheckJobDir = "jobdir" // the fresh directory could not be made
	CheckUnpack = "unpack" // the archive was refused or could not be unpacked
	CheckExec   = "exec"   // the command could not be started
	CheckRead   = "read"   // the artifact could not be read
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
	// Copy and Unpack name the fresh directory (at most one of them): the
	// artifact is copied there, or unpacked there as a tar.gz; the command
	// runs in it.
	Copy, Unpack string
	// ImageLayout says File is an OCI image manifest (or index) in this
	// OCI image layout: once File passed its checks, the image is unpacked
	// into the new directory Bundle (its config and layers hashed again on
	// the way, ocibundle.BuildLayout) and Argv, or the image's entrypoint
	// and command when Argv is empty, runs in the container with Srun
	// --container=Bundle, in the new directory JobDir mounted at its own
	// path.
	ImageLayout, Bundle, JobDir string
	// Srun is the srun to run an image with ("srun" on PATH when empty).
	Srun string
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
	f, err := regfile.Open(o.File)
	if err != nil {
		return "", nil, nil, "", refuse(exitcode.NotVerified, CheckRead, "the staged artifact: %v; nothing ran", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", nil, nil, "", refuse(exitcode.Internal, CheckRead, "reading %q: %v", o.File, err)
	}
	dst, err := o.destination()
	if err != nil {
		return "", nil, nil, "", err
	}
	defer dst.close()
	got, err := o.check(ctx, f, dst.tee(), want)
	if err != nil {
		dst.discard()
		return "", nil, nil, "", err
	}
	o.Log.Debug("artifact verified", "file", o.File, "digest", got)
	if o.ImageLayout != "" {
		argv0, argv, env, err := o.image(ctx, dst.f, want)
		return argv0, argv, env, o.JobDir, err
	}
	argv = slices.Clone(o.Argv)
	env = slices.Clone(o.Env)
	switch {
	case o.Unpack != "":
		if err := o.unpack(ctx, dst.f); err != nil {
			dst.discard()
			return "", nil, nil, "", err
		}
		env = append(env, EnvJobDir+"="+o.Unpack)
		chdir = o.Unpack
	case o.Copy != "":
		path, err := dst.finish(before.Mode())
		if err != nil {
			dst.discard()
			return "", nil, nil, "", err
		}
		replaceArg(argv, o.File, path)
		env = append(env, EnvArtifact+"="+path, EnvJobDir+"="+o.Copy)
		chdir = o.Copy // the command runs where its copy is, as after --unpack
	default:
		fd, err := sealReadOnly(dst.f)
		dst.f = nil
		if err != nil {
			return "", nil, nil, "", refuse(exitcode.Internal, CheckExec, "passing the checked copy on: %v", err)
		}
		path := "/dev/fd/" + strconv.Itoa(fd)
		replaceArg(argv, o.File, path)
		env = append(env, EnvArtifact+"="+path)
	}
	argv0, err = lookPath(argv[0], chdir)
	if err != nil {
		return "", nil, nil, "", refuse(exitcode.Failed, CheckExec, "command %q: %v; give its absolute path or put it on PATH", argv[0], err)
	}
	return argv0, argv, env, chdir, nil
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
	case o.Copy != "" && o.Unpack != "":
		return usage("both --copy and --unpack: give one (--unpack for a tar.gz, --copy for any other file)")
	case len(o.Bundles) > 0 && o.Policy == "":
		return usage("--bundles without --policy: the signatures are checked against a trust policy; give it")
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
		_, err := io.CopyBuffer(dst, digest.ContextReader(ctx, f), make([]byte, digest.BufferSize))
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

func (o *Options) unpack(ctx context.Context, f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return refuse(exitcode.Internal, CheckUnpack, "rereading the checked copy: %v", err)
	}
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return refuse(exitcode.NotVerified, CheckUnpack, "%q is not a gzip-compressed tar (%v); --unpack takes a tar.gz, --copy any other file", o.File, err)
	}
	st, err := untar.Extract(ctx, zr, o.Unpack, o.Limits)
	if err == nil {
		_, err = io.Copy(io.Discard, zr) // the gzip trailer's checksum
	}
	if err != nil {
		return refuse(exitcode.NotVerified, CheckUnpack, "unpacking %q into %q: %v; nothing ran", o.File, o.Unpack, err)
	}
	o.Log.Debug("unpacked", "entries", st.Entries, "bytes", st.Bytes, "dir", o.Unpack)
	return nil
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
