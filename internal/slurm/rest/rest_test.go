package rest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/internal/openapitest"
	"github.com/slipway/actions/internal/slurm/slurmtest"
	tslurm "github.com/slipway/actions/internal/testutil/slurm"
)

func static(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// TestCluster runs the backend conformance suite against the real slurmrestd
// (v0.0.38, detected).
func TestCluster(t *testing.T) {
	c := tslurm.Require(t)
	tok := c.Token(t, 15*time.Minute)
	b := New(Options{URL: c.RESTURL, User: c.User, Token: static(tok)})
	slurmtest.Run(t, b, c, "slurm-rest")
	if v := b.currentVersion(); v != "v0.0.38" {
		t.Errorf("detected API version %q, want v0.0.38 (Slurm 22.05)", v)
	}
}

// TestClusterRefusedToken: a token slurmctld refuses is an infrastructure
// error that says how to get a new one, and never shows the token.
func TestClusterRefusedToken(t *testing.T) {
	c := tslurm.Require(t)
	bad := "eyJhbGciOiJIUzI1NiJ9.eyJzdW4iOiJyb290In0.not-a-signature-" + strings.Repeat("x", 8)
	for _, v := range []string{"v0.0.38", ""} {
		b := New(Options{URL: c.RESTURL, User: c.User, Token: static(bad), APIVersion: v})
		_, err := b.Jobs(t.Context(), []uint32{1})
		if err == nil {
			t.Fatalf("Jobs with a refused token (version %q) succeeded", v)
		}
		if !strings.Contains(err.Error(), "scontrol token username="+c.User) || exitcode.Of(err) != exitcode.Internal {
			t.Errorf("Jobs with a refused token: %v (exit %v), want a hint naming scontrol token", err, exitcode.Of(err))
		}
		if strings.Contains(err.Error(), bad) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func fullSpec() slurm.JobSpec {
	return slurm.JobSpec{
		Name: "slipway-r-1", Comment: "slipway:v1:run=1.1:job=j:release=r-1:spec=0123456789abcdef", Partition: "debug",
		Account: "proj", QOS: "normal", TimeLimit: 90 * time.Second, Nodes: 2, NTasks: 4, CPUsPerTask: 2, Mem: "1G",
		GPUs: "a100:2", Gres: "gpu:a100:2,shard:1", Constraint: "intel&avx2", WorkDir: "/shared/w",
		Stdout: "/shared/w/%x-%j.out", Stderr: "/shared/w/%j.err", Container: "/shared/bundle",
		Env: map[string]string{"PATH": "/usr/bin:/bin", "SECRET": "s"}, Script: []byte("#!/bin/sh\nexit 0\n"),
	}
}

// TestSubmitBodyMatchesDocuments checks every version's request body against
// the published document's JSON Schema, with no property it does not declare.
func TestSubmitBodyMatchesDocuments(t *testing.T) {
	t.Parallel()
	minimal := slurm.JobSpec{WorkDir: "/w", Script: []byte("#!/bin/sh\n")}
	for _, v := range Versions {
		schema := "job_submit_req"
		if v == "v0.0.38" {
			schema = "job_submission"
		}
		for name, spec := range map[string]slurm.JobSpec{"full": fullSpec(), "minimal": minimal} {
			if v == "v0.0.38" || name == "minimal" {
				spec.Cluster = ""
			} else {
				spec.Cluster = "c1"
			}
			body, err := submitBody(v, spec)
			if err != nil {
				t.Fatalf("%s %s: %v", v, name, err)
			}
			openapitest.ValidateRequest(t, v, schema, body)
		}
	}
	spec := fullSpec()
	spec.Cluster = "other"
	if _, err := submitBody("v0.0.38", spec); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("v0.0.38 with a cluster: %v, want a usage error", err)
	}
}

func TestParseSubmit(t *testing.T) {
	t.Parallel()
	if id, err := parseSubmit([]byte(`{"job_id": 42, "step_id": "batch", "errors": []}`)); err != nil || id != 42 {
		t.Errorf("parseSubmit = %d, %v", id, err)
	}
	for _, in := range []string{`{}`, `{"job_id": 0}`, `{"job_id": -1}`, `{"job_id": 1.5}`, `{"job_id": 4294967296}`, `[`, `{"job_id": "7"}`} {
		if _, err := parseSubmit([]byte(in)); err == nil {
			t.Errorf("parseSubmit(%s) accepted", in)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	tok := static("t")
	for name, o := range map[string]Options{
		"url scheme":   {URL: "ftp://h", User: "u", Token: tok},
		"url userinfo": {URL: "http://u:p@h", User: "u", Token: tok},
		"no user":      {URL: "http://h", Token: tok},
		"no token":     {URL: "http://h", User: "u"},
		"version":      {URL: "http://h", User: "u", Token: tok, APIVersion: "v0.0.39"},
	} {
		_, err := New(o).Jobs(t.Context(), []uint32{1})
		if exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	_, err := New(Options{URL: "http://127.0.0.1:1", User: "u", Token: func(context.Context) (string, error) { return "", errors.New("no token file") }, APIVersion: "v0.0.38"}).Jobs(t.Context(), []uint32{1})
	if err == nil || !strings.Contains(err.Error(), "no token file") {
		t.Errorf("a failing token source: %v", err)
	}
}

func FuzzParseSubmit(f *testing.F) {
	f.Add([]byte(`{"job_id": 42}`))
	f.Add([]byte(`{"paths": {"/slurm/v0.0.42/jobs/": {}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, err := parseSubmit(data); err == nil && id == 0 {
			t.Fatal("job id 0 accepted")
		}
		if vs, err := servedVersions(data); err == nil && len(vs) == 0 {
			t.Fatal("no versions without an error")
		}
		_ = killStatus("/slurm/v0.0.42/job/1", data)
	})
}

// TestClusterScontrolToken: a backend whose token comes from ScontrolToken
// talks to the real slurmrestd, and the token is asked for once, then reused.
func TestClusterScontrolToken(t *testing.T) {
	c := tslurm.Require(t)
	src := ScontrolToken(TokenOptions{User: c.User, Lifespan: 10 * time.Minute})
	calls := 0
	counted := func(ctx context.Context) (string, error) { calls++; return src(ctx) }
	b := New(Options{URL: c.RESTURL, User: c.User, Token: counted, APIVersion: "v0.0.38"})
	for range 2 {
		if v, err := b.Version(t.Context()); err != nil || !strings.HasPrefix(v, "22.05") {
			t.Fatalf("Version = %q, %v", v, err)
		}
	}
	first, _ := src(t.Context())
	second, _ := src(t.Context())
	if calls != 2 || first == "" || first != second {
		t.Errorf("token source: %d calls, the token changed between calls: %v", calls, first != second)
	}
	_, err := ScontrolToken(TokenOptions{Bin: t.TempDir(), User: c.User})(t.Context())
	if err == nil || exitcode.Of(err) != exitcode.Internal {
		t.Errorf("ScontrolToken without scontrol: %v", err)
	}
}

// TestScontrolTokenRenews: a token is renewed once four fifths of its lifespan passed.
func TestScontrolTokenRenews(t *testing.T) {
	t.Parallel()
	c := tslurm.Require(t)
	now := time.Now()
	src := ScontrolToken(TokenOptions{User: c.User, Lifespan: 100 * time.Second, Now: func() time.Time { return now }})
	a, err := src(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(79 * time.Second)
	if b, _ := src(t.Context()); b != a {
		t.Error("the token was renewed before four fifths of its lifespan")
	}
	now = now.Add(2 * time.Second)
	time.Sleep(1100 * time.Millisecond) // scontrol token embeds the issue time in seconds
	if b, _ := src(t.Context()); b == a {
		t.Error("the token was not renewed after four fifths of its lifespan")
	}
}
