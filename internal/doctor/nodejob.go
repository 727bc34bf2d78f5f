package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/slurm/rest"
)

// backend is the Backend the dispatcher would use: the Slurm commands, or slurmrestd with the token checkREST
// found accepted.
func (s *state) backend() slurm.Backend {
	if s.o.Backend == "rest" {
		return rest.New(rest.Options{URL: s.o.RESTURL, User: s.o.RESTUser, HTTPClient: s.o.HTTP,
			Token: func(context.Context) (string, error) { return s.jwt, nil }})
	}
	return cli.New(cli.Options{})
}

// canSubmit reports whether the checks so far leave a way to submit the test job (when not, they said why).
func (s *state) canSubmit() bool {
	if s.o.Backend == "rest" {
		return s.restOK && (!s.controller || s.partition != "")
	}
	return s.controller && s.partition != ""
}

// nodeScript runs on a compute node in the working directory: it sees the headnode's marker file and writes one
// back. marker is ours (hex); the directory reaches the job as its working directory, never through the script.
func nodeScript(marker string) []byte {
	return []byte("#!/bin/sh\ntest -f ./" + marker + " && : > ./" + marker + ".seen\n")
}

// checkNodeSees submits a tiny job into dir, through the dispatcher's backend, that checks the marker file is
// there and writes one back: the working directory is the same directory on a compute node, and writable there.
func checkNodeSees(ctx context.Context, s *state, dir, marker string) {
	b := s.backend()
	spec := slurm.JobSpec{Name: "slipway-doctor", Partition: s.partition, TimeLimit: time.Minute, NTasks: 1, CPUsPerTask: 1,
		Mem: "16M", WorkDir: dir, Stdout: "/dev/null", Stderr: "/dev/null", Env: map[string]string{"PATH": "/usr/bin:/bin"},
		Script: nodeScript(marker)}
	id, err := b.Submit(ctx, spec)
	if err != nil {
		s.r.problem("workdir", fmt.Sprintf("the test job was refused (%s backend: %v)", s.o.Backend, oneLine(err.Error())),
			fmt.Sprintf("check that %s may submit to the partition (sbatch --partition=%s --wrap true)", s.user, or(s.partition, "DEFAULT")))
		return
	}
	job, err := waitJob(ctx, b, id, s.o.JobTimeout)
	if err != nil {
		b.Cancel(context.WithoutCancel(ctx), id)
		s.r.problem("workdir", fmt.Sprintf("the test job %d did not finish within %s (%v); it was cancelled", id, s.o.JobTimeout, err),
			fmt.Sprintf("see why it waits (squeue -j %d -o %%R): the partition is full, or no node takes jobs", id))
		return
	}
	_, seenErr := os.Stat(filepath.Join(dir, marker+".seen"))
	switch {
	case job.State != slurm.Completed || job.ExitCode != 0:
		s.r.problem("workdir", fmt.Sprintf("on node %s the test job %d did not find %q (state %s, exit code %d): it is not the same directory there", job.Nodes, id, dir, job.State, job.ExitCode),
			fmt.Sprintf("mount the shared filesystem at %s on every compute node, readable and writable by %s", dir, s.user))
	case seenErr != nil:
		s.r.problem("workdir", fmt.Sprintf("the test job %d on node %s wrote into %q, but the file does not show here", id, job.Nodes, dir),
			"use a filesystem shared between the headnode and the compute nodes (NFS, Lustre, GPFS, BeeGFS), without client caching that hides new files")
	default:
		s.r.ok("workdir", "%s is writable here and the same directory on node %s (test job %d, %s backend)", dir, job.Nodes, id, s.o.Backend)
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// waitJob asks the backend about the job until its state is final, or limit passes.
func waitJob(ctx context.Context, b slurm.Backend, id uint32, limit time.Duration) (slurm.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := 200 * time.Millisecond
	var last slurm.Job
	for {
		jobs, err := b.Jobs(ctx, []uint32{id})
		if err == nil {
			if j, ok := jobs[id]; ok {
				last = j
				if j.State.Final() {
					return j, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			if last.State != "" {
				return last, fmt.Errorf("still %s", last.State)
			}
			return last, ctx.Err()
		case <-time.After(tick):
		}
		if tick < time.Second {
			tick += 100 * time.Millisecond
		}
	}
}
