package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/slurmtest"
	tslurm "github.com/slipway/actions/internal/testutil/slurm"
)

// TestCluster runs the backend conformance suite against the real Slurm.
func TestCluster(t *testing.T) {
	c := tslurm.Require(t)
	slurmtest.Run(t, New(Options{}), c, "slurm-cli")
}

func TestSubmitArgs(t *testing.T) {
	t.Parallel()
	spec := slurm.JobSpec{
		Name: "slipway-r-1", Comment: "slipway:v1:run=1.1", Partition: "debug", Account: "a", QOS: "q", Cluster: "c2",
		TimeLimit: 61 * time.Second, Nodes: 1, NTasks: 2, CPUsPerTask: 3, Mem: "64M", GPUs: "a100:1", Gres: "gpu:1",
		Constraint: "x&y", WorkDir: "/w", Stdout: "/w/%j.out", Stderr: "/w/%j.err", Container: "/b",
		Env: map[string]string{"SECRET": "s3cr3t", "A": "1"}, Script: []byte("#!/bin/sh\n"),
	}
	b := New(Options{Cluster: "c1", Getenv: func(k string) string {
		if k == "SLURM_CONF" {
			return "/etc/slurm/slurm.conf"
		}
		return "leaked"
	}})
	args, err := b.submitArgs(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := "--parsable --export=ALL --job-name=slipway-r-1 --comment=slipway:v1:run=1.1 --partition=debug --account=a " +
		"--qos=q --clusters=c2 --time=2 --nodes=1 --ntasks=2 --cpus-per-task=3 --mem=64M --gpus=a100:1 --gres=gpu:1 " +
		"--constraint=x&y --chdir=/w --output=/w/%j.out --error=/w/%j.err --container=/b"
	if got := strings.Join(args, " "); got != want {
		t.Errorf("submitArgs:\n got %s\nwant %s", got, want)
	}
	for _, a := range args {
		if strings.Contains(a, "s3cr3t") {
			t.Errorf("an environment value is in sbatch's arguments: %q", a)
		}
	}
	if got, want := strings.Join(b.jobEnv(spec), " "), "A=1 SECRET=s3cr3t SLURM_CONF=/etc/slurm/slurm.conf"; got != want {
		t.Errorf("jobEnv = %q, want %q (the spec's Env and SLURM_CONF, nothing else)", got, want)
	}
	minimal, _ := New(Options{Getenv: func(string) string { return "" }}).submitArgs(slurm.JobSpec{WorkDir: "/w"})
	if got, want := strings.Join(minimal, " "), "--parsable --export=ALL --chdir=/w"; got != want {
		t.Errorf("submitArgs of a minimal spec = %q, want %q", got, want)
	}
}

func TestParseParsable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint32{"42\n": 42, "42;cluster\n": 42, "sbatch: warning: x\n7\n": 7, "4294967295": 4294967295} {
		if got, err := parseParsable(in); err != nil || got != want {
			t.Errorf("parseParsable(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", "0", "x", "-1", "4294967296", "Submitted batch job 5"} {
		if _, err := parseParsable(in); err == nil {
			t.Errorf("parseParsable(%q) accepted", in)
		}
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"slurm-wlm 22.05.8\n": "22.05.8", "slurm 23.11.4\n": "23.11.4", "slurm 24.05.0-0rc1": "24.05.0-0rc1"} {
		if got, err := parseVersion(in); err != nil || got != want {
			t.Errorf("parseVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "22.05.8", "sbatch x", "slurm 22.x"} {
		if _, err := parseVersion(in); err == nil {
			t.Errorf("parseVersion(%q) accepted", in)
		}
	}
}

func TestCommandErrorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	b := New(Options{Bin: t.TempDir()})
	_, err := b.run(t.Context(), "sbatch", nil, nil, nil)
	if err == nil || exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "installed") {
		t.Errorf("running a missing sbatch: %v", err)
	}
}

func FuzzParseParsable(f *testing.F) {
	f.Add("42;c\n")
	f.Add("slurm-wlm 22.05.8\n")
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := parseParsable(s); err == nil && id == 0 {
			t.Fatalf("parseParsable(%q) = 0 without an error", s)
		}
		if v, err := parseVersion(s); err == nil && !versionRE.MatchString(v) {
			t.Fatalf("parseVersion(%q) = %q", s, v)
		}
	})
}
