package dispatch

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/mediatype"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("ab", 32)
	k, err := IdempotencyKey(RunIdentity{RunID: "123", Attempt: "2", Job: "run"}, "r-0123456789abcdef", fp)
	if err != nil || k != "slipway:v1:run=123.2:job=run:release=r-0123456789abcdef:spec=abababababababab" {
		t.Fatalf("key %q, %v", k, err)
	}
	local1, _ := IdempotencyKey(RunIdentity{}, "r-0123456789abcdef", fp)
	local2, _ := IdempotencyKey(RunIdentity{}, "r-0123456789abcdef", fp)
	if !strings.HasPrefix(local1, "slipway:v1:run=local-") || local1 == local2 {
		t.Errorf("outside Actions: %q and %q, want two different local- runs", local1, local2)
	}
	if _, err := IdempotencyKey(RunIdentity{RunID: "1", Attempt: "1", Job: "a b"}, "r-0123456789abcdef", fp); err == nil {
		t.Error("a job name with a space was accepted")
	}
}

// staged is a release of two artifacts staged in a temporary directory.
func staged(t *testing.T) *Staged {
	t.Helper()
	m := artifact.NewManifest()
	for _, name := range []string{"app.tar.gz", "run.sh"} {
		m.Add(artifact.Record{Name: name, Path: name, Digest: digest.SHA256{1}, Size: 1, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	}
	m.Add(artifact.Record{Name: "run.sh.sigstore.json", Path: "run.sh.sigstore.json", Digest: digest.SHA256{2}, Size: 1, MediaType: "application/json", Role: artifact.RoleSignature, Describes: digest.SHA256{1}})
	// An image admitted by reference, as stageReference records it.
	img := digest.SHA256{3}
	m.Add(artifact.Record{Name: "reg.example:5000/app", URI: "reg.example:5000/app@" + img.String(), Digest: img, Size: 1, MediaType: mediatype.OCIManifest, Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "reg.example:5000/multi", URI: "reg.example:5000/multi@" + digest.SHA256{5}.String(), Digest: digest.SHA256{5}, Size: 1, MediaType: mediatype.OCIIndex, Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "image/bundles/b.sigstore.json", Path: "image/bundles/b.sigstore.json", Digest: digest.SHA256{4}, Size: 1, MediaType: "application/json", Role: artifact.RoleSignature, Describes: img})
	return &Staged{Release: export.Release{ID: "r-0123456789abcdef"}, Dir: "/shared/w/.slipway/release-r-0123456789abcdef", Manifest: m}
}

func TestNewPlan(t *testing.T) {
	t.Parallel()
	base := Job{Slipway: "/opt/slipway", PolicyFile: "/etc/slipway/policy.yaml", Partition: "debug"}
	for _, tc := range []struct {
		name    string
		job     func(Job) Job
		wantErr string
		check   func(t *testing.T, p *plan)
	}{
		{name: "script", job: func(j Job) Job { j.Script = "run.sh"; return j }, check: func(t *testing.T, p *plan) {
			s := string(p.spec.Script)
			if p.artifact.Name != "run.sh" || !strings.Contains(s, "'/bin/sh' '/shared/w/.slipway/release-r-0123456789abcdef/run.sh'") ||
				!strings.Contains(s, "--bundles '/shared/w/.slipway/release-r-0123456789abcdef/run.sh.sigstore.json'") {
				t.Errorf("script:\n%s", s)
			}
			if p.spec.Env["PATH"] != DefaultPath || len(p.spec.Env) != 1 || p.spec.WorkDir != "/shared/w" || p.spec.Name != "slipway-r-0123456789abcdef" {
				t.Errorf("spec %+v", p.spec)
			}
		}},
		{name: "command in a tar.gz", job: func(j Job) Job { j.Command = "./bin/app --in 'a b'"; j.Artifact = "app.tar.gz"; return j }, check: func(t *testing.T, p *plan) {
			if s := string(p.spec.Script); !strings.Contains(s, "--unpack") || !strings.Contains(s, "'./bin/app' '--in' 'a b'") {
				t.Errorf("script:\n%s", s)
			}
		}},
		{name: "image admitted by reference", job: func(j Job) Job { j.Command = "/hello 0"; j.Artifact = "reg.example:5000/app"; return j }, check: func(t *testing.T, p *plan) {
			s, rel := string(p.spec.Script), "/shared/w/.slipway/release-r-0123456789abcdef/"
			for _, want := range []string{"--file '" + rel + "image/blobs/sha256/" + digest.SHA256{3}.Hex() + "'", "--image-layout '" + rel + "image'",
				"--bundles '" + rel + "image/bundles/b.sigstore.json'", "'/hello' '0'"} {
				if !strings.Contains(s, want) {
					t.Errorf("script lacks %s:\n%s", want, s)
				}
			}
		}},
		{name: "image index", job: func(j Job) Job { j.Artifact = "reg.example:5000/multi"; j.Platform = "linux/arm64/v8"; return j }, check: func(t *testing.T, p *plan) {
			if s := string(p.spec.Script); !strings.Contains(s, "--platform 'linux/arm64/v8'") || !strings.Contains(s, "--image-layout") {
				t.Errorf("script does not pass the platform:\n%s", s)
			}
		}},
		{name: "image index, default platform", job: func(j Job) Job { j.Artifact = "reg.example:5000/multi"; return j }, check: func(t *testing.T, p *plan) {
			if s := string(p.spec.Script); !strings.Contains(s, "--platform 'linux/"+runtime.GOARCH+"'") {
				t.Errorf("script does not pass the default platform:\n%s", s)
			}
		}},
		{name: "image on a Podman site", job: func(j Job) Job {
			j.Artifact, j.SiteContainerRuntime = "reg.example:5000/app", "podman"
			return j
		}, check: func(t *testing.T, p *plan) {
			if s := string(p.spec.Script); !strings.Contains(s, "--container-runtime 'podman'") {
				t.Errorf("script does not run the site's runtime:\n%s", s)
			}
		}},
		{name: "file on a Podman site", job: func(j Job) Job { j.Script, j.SiteContainerRuntime = "run.sh", "podman"; return j }, check: func(t *testing.T, p *plan) {
			if s := string(p.spec.Script); strings.Contains(s, "container-runtime") {
				t.Errorf("a file artifact runs with the site's container runtime:\n%s", s)
			}
		}},
		{name: "image index, bad platform", job: func(j Job) Job { j.Artifact = "reg.example:5000/multi"; j.Platform = "linux"; return j }, wantErr: "is not os/arch"},
		{name: "two artifacts, none named", job: func(j Job) Job { j.Command = "true"; return j }, wantErr: "name the one to run"},
		{name: "both command and script", job: func(j Job) Job { j.Command = "true"; j.Script = "run.sh"; return j }, wantErr: "exactly one"},
		{name: "a shell in the command", job: func(j Job) Job { j.Command = "true; rm -rf /"; j.Artifact = "run.sh"; return j }, wantErr: "without a shell"},
		{name: "a secret in the env", job: func(j Job) Job {
			j.Script = "run.sh"
			j.Env = map[string]string{"SLIPWAY_TOKEN": "slw_x"}
			return j
		}, wantErr: "never reaches a job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := newPlan(staged(t), tc.job(base), "/shared/w", "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.spec.Validate(); err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, "job-7")
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "out", "b.txt"), "b")
	write(filepath.Join(dir, "out", "a.txt"), "a")
	write(filepath.Join(work, "secret"), "s")
	os.Symlink(filepath.Join(work, "secret"), filepath.Join(dir, "inside-link"))
	os.Symlink("/etc/hostname", filepath.Join(dir, "outside-link"))
	ctx := context.Background()
	recs, err := collect(ctx, work, dir, []string{"out/*.txt", "out/a.txt"}, true)
	if err != nil || len(recs) != 2 || recs[0].Name != "job-7/out/a.txt" || recs[1].Name != "job-7/out/b.txt" || recs[0].Size != 1 {
		t.Fatalf("collect: %+v %v", recs, err)
	}
	if want, _, _ := digest.File(filepath.Join(dir, "out", "a.txt")); recs[0].Digest != want {
		t.Errorf("digest %s, want %s", recs[0].Digest, want)
	}
	for _, all := range []bool{true, false} {
		if _, err := collect(ctx, work, dir, []string{"outside-link"}, all); err == nil {
			t.Errorf("a link leaving the workdir was collected (all %v)", all)
		}
	}
	if _, err := collect(ctx, work, dir, []string{"nothing-*"}, true); err == nil || !strings.Contains(err.Error(), "matched no file") {
		t.Errorf("a glob matching nothing: %v", err)
	}
	// A failed job's outputs: what it left.
	if recs, err := collect(ctx, work, dir, []string{"nothing-*", "out/b.txt"}, false); err != nil || len(recs) != 1 || recs[0].Name != "job-7/out/b.txt" {
		t.Errorf("a failed job's outputs (one glob matching nothing): %+v %v", recs, err)
	}
	if recs, err := collect(ctx, work, filepath.Join(work, "job-8"), []string{"out/*"}, false); err != nil || len(recs) != 0 {
		t.Errorf("a job that left no directory (exec-verified refused it): %+v %v", recs, err)
	}
	if err := CheckGlobs([]string{"../x"}); err == nil {
		t.Error("a glob leaving the job directory was accepted")
	}
}

// TestPlanJobStaging: a file artifact is checked in place on the node
// (exec-verified --in-place, the staging root WORKDIR/.slipway), and a
// staging area the node would refuse (another user could write it) is
// refused before anything is submitted; an archive is unpacked, not
// checked in place.
func TestPlanJobStaging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, artifact, wantErr string
		edit                    func(t *testing.T, st *Staged)
	}{
		{name: "file in place", artifact: "run.sh"},
		{name: "group-writable release directory", artifact: "run.sh", edit: func(t *testing.T, st *Staged) {
			if err := os.Chmod(st.Dir, 0o775); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "nothing was submitted: the staging directory"},
		{name: "file with a second link", artifact: "run.sh", edit: func(t *testing.T, st *Staged) {
			if err := os.Link(filepath.Join(st.Dir, "run.sh"), filepath.Join(st.Dir, "other")); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "has 2 links"},
		{name: "archive under a group-writable directory", artifact: "app.tar.gz", edit: func(t *testing.T, st *Staged) {
			if err := os.Chmod(st.Dir, 0o775); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			st := staged(t)
			st.Dir = filepath.Join(work, StateDir, "release-"+st.Release.ID)
			if err := os.MkdirAll(st.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{filepath.Dir(st.Dir), st.Dir} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"app.tar.gz", "run.sh"} {
				if err := os.WriteFile(filepath.Join(st.Dir, name), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.edit != nil {
				tc.edit(t, st)
			}
			spec, err := PlanJob(st, Job{Slipway: "/opt/slipway", Partition: "debug", Command: "true", Artifact: tc.artifact}, work)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := string(spec.Script)
			inPlace := strings.Contains(s, "--in-place \"$slipway_dir\"") && strings.Contains(s, "--staging-root '"+filepath.Join(work, StateDir)+"'")
			if inPlace != (tc.artifact == "run.sh") || strings.Contains(s, "--copy") {
				t.Errorf("script (want --in-place for a file, --unpack for an archive):\n%s", s)
			}
		})
	}
}
