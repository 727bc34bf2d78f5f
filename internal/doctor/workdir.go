package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func checkWorkDir(ctx context.Context, s *state) {
	if s.o.WorkDir == "" {
		return
	}
	dir, err := filepath.Abs(s.o.WorkDir)
	if err != nil {
		s.r.problem("workdir", fmt.Sprintf("the working directory %q: %v", s.o.WorkDir, err), "give an absolute path on the shared filesystem")
		return
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.r.problem("workdir", fmt.Sprintf("the working directory %q does not exist", dir),
			fmt.Sprintf("create it on the shared filesystem (mkdir -p %s; chown %s %s), mounted at the same path on every compute node", dir, s.user, dir))
		return
	case err != nil:
		s.r.problem("workdir", fmt.Sprintf("the working directory %q: %v", dir, err), "check the path and the mount")
		return
	case !st.IsDir():
		s.r.problem("workdir", fmt.Sprintf("the working directory %q is not a directory", dir), "name a directory on the shared filesystem")
		return
	}
	marker := ".slipway-doctor-" + randomHex()
	path := filepath.Join(dir, marker)
	if err := os.WriteFile(path, []byte("slipway runner doctor\n"), 0o644); err != nil {
		s.r.problem("workdir", fmt.Sprintf("the working directory %q is not writable by %s (%v)", dir, s.user, err),
			fmt.Sprintf("chown %s %s, or give a directory this user may write", s.user, dir))
		return
	}
	defer os.Remove(path)
	defer os.Remove(path + ".seen")
	checkSpace(s, "workdir", dir)
	if !s.controller || s.partition == "" {
		return // the Slurm checks above said why no job can run
	}
	checkNodeSees(ctx, s, dir, marker)
}

func checkTempSpace(_ context.Context, s *state) {
	checkSpace(s, "tmp", os.TempDir())
}

func checkSpace(s *state, check, dir string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		s.r.problem(check, fmt.Sprintf("the free space under %s is unknown (%v)", dir, err), "check the mount")
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < s.o.MinFree {
		s.r.problem(check, fmt.Sprintf("only %s free under %s, less than %s", size(free), dir, size(s.o.MinFree)),
			"free space there (staged releases and job outputs go there) or use another filesystem")
		return
	}
	s.r.ok(check, "%s free under %s", size(free), dir)
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", n>>20)
	}
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// nodeScript runs on a compute node in the working directory: it sees the headnode's marker file and writes one
// back. marker is ours (hex); the directory reaches the job through --chdir, never through the script.
func nodeScript(marker string) []byte {
	return []byte("#!/bin/sh\ntest -f ./" + marker + " && : > ./" + marker + ".seen\n")
}

// checkNodeSees submits a tiny job into dir that checks the marker file is there and writes one back: the
// working directory is the same directory on a compute node, and writable there.
func checkNodeSees(ctx context.Context, s *state, dir, marker string) {
	args := []string{"--parsable", "--job-name=slipway-doctor", "--partition=" + s.partition, "--time=1", "--ntasks=1",
		"--cpus-per-task=1", "--mem=16M", "--export=NONE", "--chdir=" + dir, "--output=/dev/null", "--error=/dev/null"}
	out, err := command(ctx, nodeScript(marker), "sbatch", args...)
	id := strings.TrimSpace(out)
	if i := strings.IndexByte(id, ';'); i >= 0 {
		id = id[:i] // "ID;CLUSTER"
	}
	if err != nil || id == "" || strings.ContainsAny(id, " \n") {
		s.r.problem("workdir", fmt.Sprintf("the test job was refused (sbatch: %v)", err),
			fmt.Sprintf("check that %s may submit to partition %s (sbatch --partition=%s --wrap true)", s.user, s.partition, s.partition))
		return
	}
	job, err := waitJob(ctx, id, s.o.JobTimeout)
	if err != nil {
		command(context.WithoutCancel(ctx), nil, "scancel", id)
		s.r.problem("workdir", fmt.Sprintf("the test job %s did not finish within %s (%v)", id, s.o.JobTimeout, err),
			fmt.Sprintf("see why it waits (squeue -j %s -o %%R): the partition is full, or no node takes jobs", id))
		return
	}
	_, seenErr := os.Stat(filepath.Join(dir, marker+".seen"))
	switch {
	case job.state != "COMPLETED":
		s.r.problem("workdir", fmt.Sprintf("on node %s the test job %s did not find %q (state %s, exit code %s): it is not the same directory there", job.node, id, dir, job.state, job.exit),
			fmt.Sprintf("mount the shared filesystem at %s on every compute node, readable and writable by %s", dir, s.user))
	case seenErr != nil:
		s.r.problem("workdir", fmt.Sprintf("the test job %s on node %s wrote into %q, but the file does not show here", id, job.node, dir),
			"use a filesystem shared between the headnode and the compute nodes (NFS, Lustre, GPFS, BeeGFS), without client caching that hides new files")
	default:
		s.r.ok("workdir", "%s is writable here and the same directory on node %s (test job %s)", dir, job.node, id)
	}
}

type jobEnd struct{ state, exit, node string }

// waitJob polls scontrol until the job's state is final, or limit passes.
func waitJob(ctx context.Context, id string, limit time.Duration) (jobEnd, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := 200 * time.Millisecond
	var last jobEnd
	for {
		out, err := command(ctx, nil, "scontrol", "--oneliner", "show", "job", id)
		if err == nil {
			last = parseJob(out)
			switch last.state {
			case "", "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING":
			default:
				return last, nil
			}
		}
		select {
		case <-ctx.Done():
			if last.state != "" {
				return last, fmt.Errorf("still %s", last.state)
			}
			return last, ctx.Err()
		case <-time.After(tick):
		}
		if tick < time.Second {
			tick += 100 * time.Millisecond
		}
	}
}

func parseJob(out string) jobEnd {
	var j jobEnd
	for _, f := range strings.Fields(out) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "JobState":
			j.state = v
		case "ExitCode":
			j.exit = v
		case "NodeList":
			j.node = v
		}
	}
	return j
}
