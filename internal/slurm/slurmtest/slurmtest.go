package slurmtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	tslurm "github.com/slipway/actions/internal/testutil/slurm"
)

// slurmOwnEnv is what Slurm itself puts in a batch job's environment besides SLURM_*
// (observed on 22.05.8: slurmstepd sets these).
var slurmOwnEnv = []string{"ENVIRONMENT", "HOSTNAME", "PWD", "TMPDIR"}

// Run runs the suite with b against c. prefix names the jobs ("slurm-cli").
func Run(t *testing.T, b slurm.Backend, c *tslurm.Cluster, prefix string) {
	s := &suite{b: b, c: c, prefix: prefix}
	t.Run("Version", s.version)
	t.Run("Refused", s.refused)
	t.Run("Jobs", func(t *testing.T) {
		t.Run("ExactEnv", s.exactEnv)
		t.Run("EmptyEnv", s.emptyEnv)
		t.Run("ExitCode", s.exitCode)
		t.Run("Signal", s.signal)
		t.Run("OutOfMemory", s.outOfMemory)
		t.Run("CancelAndFind", s.cancelAndFind)
		t.Run("Batched", s.batched)
	})
}

type suite struct {
	b      slurm.Backend
	c      *tslurm.Cluster
	prefix string
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// spec is a tiny job running script in its own directory under Shared.
func (s *suite) spec(t *testing.T, name, script string) slurm.JobSpec {
	dir := filepath.Join(s.c.Shared, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return slurm.JobSpec{
		Name: s.prefix + "-" + name, Comment: s.prefix + ":" + name + ":" + random(),
		Partition: s.c.Partition, TimeLimit: time.Minute, NTasks: 1, CPUsPerTask: 1, Mem: "16M",
		WorkDir: dir, Stdout: dir + "/%x-%j.out", Stderr: dir + "/%j.err",
		Env: map[string]string{"PATH": "/usr/bin:/bin"}, Script: []byte("#!/bin/sh\n" + script + "\n"),
	}
}

func random() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// submit submits spec and cancels the job when the test ends.
func (s *suite) submit(t *testing.T, spec slurm.JobSpec) uint32 {
	t.Helper()
	id, err := s.b.Submit(ctx(t), spec)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.b.Cancel(c, id); err != nil {
			t.Errorf("Cancel(%d) at cleanup: %v", id, err)
		}
	})
	return id
}

// wait polls Jobs until the job's state satisfies done.
func (s *suite) wait(t *testing.T, id uint32, done func(slurm.Job) bool) slurm.Job {
	t.Helper()
	c := ctx(t)
	for {
		jobs, err := s.b.Jobs(c, []uint32{id})
		if err != nil {
			t.Fatalf("Jobs(%d): %v", id, err)
		}
		j, ok := jobs[id]
		if ok && done(j) {
			return j
		}
		if !ok {
			t.Fatalf("Jobs(%d): Slurm does not know the job it just accepted", id)
		}
		select {
		case <-c.Done():
			t.Fatalf("job %d: still %q after 2 minutes", id, jobs[id].State)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

func final(j slurm.Job) bool { return j.State.Final() }

func (s *suite) version(t *testing.T) {
	t.Parallel()
	v, err := s.b.Version(ctx(t))
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if !regexp.MustCompile(`^22\.05\.[0-9]+$`).MatchString(v) {
		t.Errorf("Version = %q, want the cluster's 22.05.x", v)
	}
}

func (s *suite) refused(t *testing.T) {
	t.Parallel()
	spec := s.spec(t, "refused", "exit 0")
	spec.Partition = "no-such-partition"
	id, err := s.b.Submit(ctx(t), spec)
	if err == nil {
		_ = s.b.Cancel(ctx(t), id)
		t.Fatalf("Submit to partition %q gave job %d", spec.Partition, id)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "partition") || exitcode.Of(err) != exitcode.Failed {
		t.Errorf("Submit: %v (exit code %v), want a failure naming the partition", err, exitcode.Of(err))
	}
	spec.Partition, spec.Mem = s.c.Partition, "4 G"
	if _, err := s.b.Submit(ctx(t), spec); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("Submit of an invalid spec: %v, want a usage error before Slurm is asked", err)
	}
}

// exactEnv: the job sees JobSpec.Env and what Slurm adds, nothing of the
// process that submitted it.
func (s *suite) exactEnv(t *testing.T) {
	t.Parallel()
	spec := s.spec(t, "env", `env; echo "A=[$A]"`)
	spec.Env["A"] = "two words, 'quotes' \"and\" $dollar\nnewline"
	spec.Env["B_2"] = ""
	id := s.submit(t, spec)
	j := s.wait(t, id, final)
	if j.State != slurm.Completed || j.ExitCode != 0 || j.Signal != 0 {
		t.Fatalf("job %d: %q exit %d signal %d, want COMPLETED 0", id, j.State, j.ExitCode, j.Signal)
	}
	out := readOut(t, j, spec)
	if !strings.Contains(out, "A=[two words, 'quotes' \"and\" $dollar\nnewline]") {
		t.Errorf("the job did not see A as given:\n%s", out)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		name, _, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(name) || strings.HasPrefix(name, "SLURM") {
			continue
		}
		if _, ok := spec.Env[name]; !ok && !slices.Contains(slurmOwnEnv, name) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		t.Errorf("the job's environment has variables the spec did not give: %q", names)
	}
}

// emptyEnv: a spec without any environment runs (slurmrestd needs one; the
// rest backend sends what Slurm sets anyway).
func (s *suite) emptyEnv(t *testing.T) {
	t.Parallel()
	spec := s.spec(t, "noenv", "exit 0")
	spec.Env = nil
	j := s.wait(t, s.submit(t, spec), final)
	if j.State != slurm.Completed || j.ExitCode != 0 {
		t.Errorf("job %d without environment: %q exit %d, want COMPLETED 0", j.ID, j.State, j.ExitCode)
	}
}

func readOut(t *testing.T, j slurm.Job, spec slurm.JobSpec) string {
	t.Helper()
	path := slurm.ExpandLogPath(spec.Stdout, j.ID, spec.Name)
	if j.Stdout != path {
		t.Errorf("job %d: Stdout %q, want %q", j.ID, j.Stdout, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("job %d: %v", j.ID, err)
	}
	return string(b)
}

func (s *suite) exitCode(t *testing.T) {
	t.Parallel()
	id := s.submit(t, s.spec(t, "exit3", "exit 3"))
	j := s.wait(t, id, final)
	if j.State != slurm.Failed || j.ExitCode != 3 || j.Signal != 0 {
		t.Errorf("job %d: %q exit %d signal %d, want FAILED 3 0", id, j.State, j.ExitCode, j.Signal)
	}
	if j.End.Before(j.Start) || j.Start.Before(j.Submit) || j.Submit.IsZero() {
		t.Errorf("job %d: times submit %v start %v end %v out of order", id, j.Submit, j.Start, j.End)
	}
}

func (s *suite) signal(t *testing.T) {
	t.Parallel()
	id := s.submit(t, s.spec(t, "kill9", "kill -9 $$"))
	j := s.wait(t, id, final)
	if j.State != slurm.Failed || j.Signal != 9 || j.ExitCode != -1 {
		t.Errorf("job %d: %q exit %d signal %d, want FAILED, no exit code, signal 9", id, j.State, j.ExitCode, j.Signal)
	}
}

// outOfMemory: a job that touches more memory than its --mem is killed by
// the kernel in its memory cgroup (the cluster runs task/cgroup with
// ConstrainRAMSpace) and ends OUT_OF_MEMORY with Slurm's SIG_OOM in place of
// its status.
func (s *suite) outOfMemory(t *testing.T) {
	t.Parallel()
	spec := s.spec(t, "oom", "exec dd if=/dev/zero of=/dev/null bs=200M count=1")
	spec.Mem = "32M"
	id := s.submit(t, spec)
	j := s.wait(t, id, final)
	if j.State != slurm.OutOfMemory || j.Signal != slurm.SigOOM || j.ExitCode != -1 || j.Reason != "OutOfMemory" {
		stderr, _ := os.ReadFile(slurm.ExpandLogPath(spec.Stderr, id, spec.Name))
		t.Errorf("job %d: %q (%s) exit %d signal %d, want OUT_OF_MEMORY (OutOfMemory), no exit code, signal %d (SIG_OOM); stderr:\n%s",
			id, j.State, j.Reason, j.ExitCode, j.Signal, slurm.SigOOM, stderr)
	}
}

func (s *suite) cancelAndFind(t *testing.T) {
	t.Parallel()
	spec := s.spec(t, "sleep", "exec sleep 50")
	id := s.submit(t, spec)
	found, err := s.b.FindByComment(ctx(t), spec.Comment)
	if err != nil || len(found) != 1 || found[0].ID != id || found[0].Comment != spec.Comment {
		t.Fatalf("FindByComment(%q) = %+v, %v; want job %d", spec.Comment, found, err, id)
	}
	if none, err := s.b.FindByComment(ctx(t), spec.Comment+"x"); err != nil || len(none) != 0 {
		t.Errorf("FindByComment of another comment = %+v, %v; want none", none, err)
	}
	if err := s.b.Cancel(ctx(t), id); err != nil {
		t.Fatalf("Cancel(%d): %v", id, err)
	}
	j := s.wait(t, id, final)
	if j.State != slurm.Cancelled {
		t.Errorf("job %d after Cancel: %q, want CANCELLED", id, j.State)
	}
	if err := s.b.Cancel(ctx(t), id); err != nil {
		t.Errorf("Cancel of an ended job: %v, want nil", err)
	}
	if err := s.b.Cancel(ctx(t), 4000000000); err != nil {
		t.Errorf("Cancel of a job Slurm does not know: %v, want nil", err)
	}
	// FindByComment still finds the ended job (any state Slurm still knows).
	if found, err := s.b.FindByComment(ctx(t), spec.Comment); err != nil || len(found) != 1 || found[0].State != slurm.Cancelled {
		t.Errorf("FindByComment after the end = %+v, %v; want the cancelled job", found, err)
	}
}

// batched: one Jobs call answers for several jobs; an id Slurm does not know
// is absent, not an error.
func (s *suite) batched(t *testing.T) {
	t.Parallel()
	var ids []uint32
	for i := range 3 {
		ids = append(ids, s.submit(t, s.spec(t, fmt.Sprintf("batch%d", i), fmt.Sprintf("exit %d", i))))
	}
	for _, id := range ids {
		s.wait(t, id, final)
	}
	jobs, err := s.b.Jobs(ctx(t), append(slices.Clone(ids), 4000000000))
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(jobs) != len(ids) {
		t.Errorf("Jobs returned %d jobs, want %d", len(jobs), len(ids))
	}
	for i, id := range ids {
		if j := jobs[id]; j.ID != id || j.ExitCode != i || !strings.HasPrefix(j.Name, s.prefix) {
			t.Errorf("Jobs[%d] = %+v, want exit code %d", id, j, i)
		}
	}
	if empty, err := s.b.Jobs(ctx(t), nil); err != nil || len(empty) != 0 {
		t.Errorf("Jobs(nil) = %v, %v", empty, err)
	}
}
