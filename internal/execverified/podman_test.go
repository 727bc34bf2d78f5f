package execverified

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

// TestRunImagePodman: with the Podman runtime the checked image's fresh
// root filesystem runs with podman run --rootfs: read-only, the job
// directory mounted at its own path as the working directory, no network
// unless asked, the image's environment with its PATH and the job's
// variables passed by name only (their values reach podman through its
// environment, never its arguments), the container kept in the job's
// cgroup, and the command or the image's entrypoint last.
func TestRunImagePodman(t *testing.T) {
	t.Parallel()
	dir, d, _ := imageLayout(t)
	for _, tc := range []struct {
		name, network, wantNet string
		argv, want             []string
	}{
		{"entrypoint and no network", "", "--network=none", nil, []string{"/app"}},
		{"command and the host network", NetworkHost, "--network=host", []string{"/bin/tool", "it's"}, []string{"/bin/tool", "it's"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			o := Options{File: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), Digest: d, ImageLayout: dir,
				Bundle: filepath.Join(tmp, "bundle"), JobDir: filepath.Join(tmp, "job"), Runtime: RuntimePodman, Podman: "/bin/true",
				Network: tc.network, Argv: tc.argv, Env: []string{"PATH=/usr/bin:/bin", "ALLOWED=the-allowed-value", "FROM_IMAGE=job"}}
			c := recorder(t, &o, nil)
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			rootfs := filepath.Join(o.Bundle, "rootfs")
			i := slices.Index(c.argv, rootfs)
			if c.argv0 != "/bin/true" || i < 0 || !slices.Equal(c.argv[i+1:], tc.want) || c.dir != o.JobDir {
				t.Fatalf("exec %q %q in %q, want podman run … %s %q in %q", c.argv0, c.argv, c.dir, rootfs, tc.want, o.JobDir)
			}
			opts := c.argv[:i]
			want := []string{"/bin/true", "run", "--rm", "--rootfs", "--read-only", tc.wantNet, "--user=0:0",
				"--security-opt=no-new-privileges", "--cap-drop=all", "--mount=type=bind,source=" + o.JobDir + ",destination=" + o.JobDir,
				"--workdir=" + o.JobDir, "--env=PATH=/image/bin", "--env=" + EnvJobDir + "=" + o.JobDir, "--env=ALLOWED", "--env=FROM_IMAGE"}
			if cg := ownCgroup(); cg != "" {
				want = append(want, "--cgroups=no-conmon", "--cgroup-parent="+cg)
			}
			for _, w := range want {
				if !slices.Contains(opts, w) {
					t.Errorf("podman's options lack %q: %q", w, opts)
				}
			}
			for _, a := range opts {
				if strings.Contains(a, "the-allowed-value") || strings.Contains(a, "/usr/bin:/bin") || a == "--env=FROM_IMAGE=1" {
					t.Errorf("podman's option %q: a job variable's value on the command line, the node's PATH, or the image's value over the job's", a)
				}
			}
			if !slices.Contains(c.env, "ALLOWED=the-allowed-value") || !slices.Contains(c.env, "PATH=/usr/bin:/bin") {
				t.Errorf("podman's environment %q: want the job's, with the node's PATH", c.env)
			}
			if _, err := os.Stat(filepath.Join(rootfs)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRunImagePodmanRefuses: options podman would misread or that do not
// apply refuse before anything is unpacked or run.
func TestRunImagePodmanRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		check string
		code  exitcode.Code
		edit  func(o *Options)
		want  string
	}{
		{"unknown runtime", CheckUsage, exitcode.Usage, func(o *Options) { o.Runtime = "docker" }, "give slurm"},
		{"network with srun", CheckUsage, exitcode.Usage, func(o *Options) { o.Runtime, o.Network = RuntimeSlurm, NetworkHost }, "is for --container-runtime podman"},
		{"unknown network", CheckUsage, exitcode.Usage, func(o *Options) { o.Network = "bridge" }, "give none"},
		{"a comma in the job dir", CheckUsage, exitcode.Usage, func(o *Options) { o.JobDir += ",ro" }, "podman's --mount would split"},
		{"a colon in the bundle", CheckUsage, exitcode.Usage, func(o *Options) { o.Bundle += ":O" }, "reads as options"},
		{"no podman", CheckExec, exitcode.Failed, func(o *Options) { o.Podman = "/nonexistent/podman" }, "install Podman on the nodes"},
		{"not an image", CheckUsage, exitcode.Usage, func(o *Options) { o.ImageLayout, o.Bundle, o.Argv = "", "", []string{"true"} }, "without --image-layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, d, _ := imageLayout(t)
			tmp := t.TempDir()
			o := Options{File: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), Digest: d, ImageLayout: dir,
				Bundle: filepath.Join(tmp, "bundle"), JobDir: filepath.Join(tmp, "job"), Runtime: RuntimePodman, Podman: "/bin/true"}
			tc.edit(&o)
			c := recorder(t, &o, nil)
			err := Run(context.Background(), o)
			var re *RefusedError
			if !errors.As(err, &re) || re.Check != tc.check || exitcode.Of(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (%+v), want check %q, code %d, saying %q", err, re, tc.check, tc.code, tc.want)
			}
			if c.argv0 != "" {
				t.Errorf("ran %q", c.argv)
			}
			if _, err := os.Stat(o.JobDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the job directory was made: %v", err)
			}
		})
	}
}

func TestJobCgroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"cgroup v1 under Slurm's task/cgroup", "9:name=systemd:/\n6:freezer:/slurm_n1/uid_0/job_7/step_batch\n4:memory:/slurm_n1/uid_0/job_7/step_batch/task_0\n0::/\n",
			"/slurm_n1/uid_0/job_7/step_batch/task_0"},
		{"cgroup v1, controllers joined", "3:cpu,memory:/slurm/uid_1000/job_8/step_0\n", "/slurm/uid_1000/job_8/step_0"},
		{"cgroup v2", "0::/system.slice/slurmstepd.scope/job_9/step_batch/user/task_0\n", "/system.slice/slurmstepd.scope/job_9/step_batch/user/task_0"},
		{"the root cgroup", "4:memory:/\n0::/\n", ""},
		{"unreadable lines", "garbage\n4:memory\n", ""},
		{"a comma in the path", "4:memory:/a,b\n", ""},
	} {
		if got := jobCgroup(strings.NewReader(tc.in)); got != tc.want {
			t.Errorf("%s: jobCgroup = %q, want %q", tc.name, got, tc.want)
		}
	}
}
