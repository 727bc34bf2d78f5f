package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/jobjson"
)

// list runs `squeue --json --states=all`: every job slurmctld still knows in
// one REQUEST_JOB_INFO RPC. Slurm 22.05 ignores squeue's filters with --json
// (23.11 and later honour them), so the backend filters itself and asks for
// no filter at all: the same answer, the same single RPC, on every version.
func (b *Backend) list(ctx context.Context) (*jobjson.JobsResponse, error) {
	args := []string{"--json", "--states=all"}
	if b.o.Cluster != "" {
		args = append(args, "--clusters="+b.o.Cluster)
	}
	out, err := b.run(ctx, "squeue", args, b.baseEnv(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := jobjson.DecodeJobs(out)
	if err != nil {
		return nil, exitcode.Infraf("slurm: squeue --json: %v: is this a Slurm version Slipway knows (22.05-25.05)?", err)
	}
	if len(resp.Errors) > 0 {
		return nil, exitcode.Infraf("slurm: squeue --json: %s: check slurmctld with `scontrol ping`", resp.Errors[0])
	}
	return resp, nil
}

// Jobs returns what Slurm knows of ids with one squeue call; ids it forgot
// are absent.
func (b *Backend) Jobs(ctx context.Context, ids []uint32) (map[uint32]slurm.Job, error) {
	if len(ids) == 0 {
		return map[uint32]slurm.Job{}, nil
	}
	resp, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	return resp.Select(ids), nil
}

// FindByComment returns the jobs of this backend's user whose comment is
// exactly c: a job someone else submitted with the same comment is never
// taken for ours.
func (b *Backend) FindByComment(ctx context.Context, c string) ([]slurm.Job, error) {
	if c == "" {
		return nil, exitcode.BadInputf("slurm: finding a job by comment: the comment is empty: pass the idempotency key")
	}
	if err := slurm.CheckComment(c); err != nil {
		return nil, err
	}
	resp, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	return resp.WithComment(c, func(j jobjson.Job) bool { return j.UserID == b.uid }), nil
}

// Cancel cancels the job with scancel; a job that already ended, or that
// Slurm forgot, is not an error (scancel says nothing and exits 0 for both).
func (b *Backend) Cancel(ctx context.Context, id uint32) error {
	if id == 0 {
		return exitcode.BadInputf("slurm: cancel: job id 0 is not a job")
	}
	args := []string{}
	if b.o.Cluster != "" {
		args = append(args, "--clusters="+b.o.Cluster)
	}
	args = append(args, strconv.FormatUint(uint64(id), 10))
	_, err := b.run(ctx, "scancel", args, b.baseEnv(), nil)
	return err
}

var versionRE = lazyregexp.New(`^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z.]+)?$`)

// Version returns Slurm's version from `sbatch --version` ("slurm-wlm
// 22.05.8", "slurm 23.11.4"): no RPC to slurmctld.
func (b *Backend) Version(ctx context.Context) (string, error) {
	out, err := b.run(ctx, "sbatch", []string{"--version"}, b.baseEnv(), nil)
	if err != nil {
		return "", err
	}
	return parseVersion(string(out))
}

func parseVersion(out string) (string, error) {
	f := strings.Fields(out)
	if len(f) < 2 || !strings.HasPrefix(f[0], "slurm") || !versionRE.MatchString(f[len(f)-1]) {
		return "", exitcode.Infraf("slurm: sbatch --version answered %q, not \"slurm VERSION\": is this Slurm's sbatch?", clip(out))
	}
	return f[len(f)-1], nil
}
