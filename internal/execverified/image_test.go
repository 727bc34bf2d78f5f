package execverified

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/slipway/actions/internal/exitcode"
)

// imageLayout writes a random image with an entrypoint and a PATH into a
// new OCI image layout: the layout, its manifest digest and the path of
// its second layer's blob.
func imageLayout(t *testing.T) (dir, manifest, layer string) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Entrypoint, cf.Config.Env = []string{"/app"}, []string{"PATH=/image/bin", "FROM_IMAGE=1"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "image")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ls, _ := img.Layers()
	ld, _ := ls[1].Digest()
	return dir, d.String(), filepath.Join(dir, "blobs", "sha256", ld.Hex)
}

// TestRunImage: the image manifest is checked, the image unpacked into a
// fresh bundle and srun --container runs the command, or the image's
// entrypoint, in the fresh job directory with the image's PATH.
func TestRunImage(t *testing.T) {
	t.Parallel()
	dir, d, _ := imageLayout(t)
	for _, tc := range []struct {
		name string
		argv []string
		want []string
	}{
		{"the image's entrypoint", nil, []string{"/app"}},
		{"a command", []string{"/bin/tool", "it's"}, []string{"/bin/tool", "it's"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			o := Options{File: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), Digest: d, ImageLayout: dir,
				Bundle: filepath.Join(tmp, "bundle"), JobDir: filepath.Join(tmp, "job"), Srun: "/bin/true",
				Argv: tc.argv, Env: []string{"PATH=/usr/bin:/bin", "ALLOWED=yes"}}
			c := recorder(t, &o, nil)
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			want := append([]string{"srun", "--container=" + o.Bundle, "--"}, tc.want...)
			if c.argv0 != "/bin/true" || !slices.Equal(c.argv, want) || c.dir != o.JobDir {
				t.Errorf("exec %q %q in %q, want %q in %q", c.argv0, c.argv, c.dir, want, o.JobDir)
			}
			if !slices.Contains(c.env, "PATH=/image/bin") || slices.Contains(c.env, "PATH=/usr/bin:/bin") || !slices.Contains(c.env, "ALLOWED=yes") || !slices.Contains(c.env, EnvJobDir+"="+o.JobDir) {
				t.Errorf("srun's environment: %q", c.env)
			}
			for _, p := range []string{filepath.Join(o.Bundle, "config.json"), filepath.Join(o.Bundle, "rootfs"), o.JobDir} {
				if _, err := os.Stat(p); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestRunImageRefuses: a changed layer, a manifest of another digest and
// bad options refuse before anything runs, with the check in the status
// file, and leave no bundle or job directory.
func TestRunImageRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, check string
		code        exitcode.Code
		edit        func(t *testing.T, o *Options, layer string)
		want        string
	}{
		{"a layer changed", "layer", exitcode.NotVerified, func(t *testing.T, o *Options, layer string) {
			os.Chmod(layer, 0o644)
			if err := os.WriteFile(layer, []byte("evil layer"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "the manifest says"},
		{"the manifest changed", "digest", exitcode.NotVerified, func(t *testing.T, o *Options, _ string) {
			os.Chmod(o.File, 0o644)
			if err := os.WriteFile(o.File, []byte(`{"schemaVersion":2}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "but the admitted digest is"},
		{"no job dir", CheckUsage, exitcode.Usage, func(t *testing.T, o *Options, _ string) { o.JobDir = "" }, "needs --bundle"},
		{"with --copy", CheckUsage, exitcode.Usage, func(t *testing.T, o *Options, _ string) { o.Copy = o.JobDir + ".copy" }, "--copy or --unpack"},
		{"no srun", CheckExec, exitcode.Failed, func(t *testing.T, o *Options, _ string) { o.Srun = "/nonexistent/srun" }, "put Slurm's srun on the job's PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, d, layer := imageLayout(t)
			tmp := t.TempDir()
			o := Options{File: filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), Digest: d, ImageLayout: dir,
				Bundle: filepath.Join(tmp, "bundle"), JobDir: filepath.Join(tmp, "job"), Srun: "/bin/true",
				Status: filepath.Join(tmp, "job.status"), JobID: "7"}
			tc.edit(t, &o, layer)
			c := recorder(t, &o, nil)
			err := Run(context.Background(), o)
			var re *RefusedError
			if !errors.As(err, &re) || re.Check != tc.check || exitcode.Of(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (%+v), want check %q, code %d, saying %q", err, re, tc.check, tc.code, tc.want)
			}
			if c.argv0 != "" {
				t.Errorf("ran %q", c.argv)
			}
			if st := readStatus(t, o.Status); st.Check != tc.check || st.ExitCode != int(tc.code) || st.Verified {
				t.Errorf("status %+v", st)
			}
			for _, p := range []string{filepath.Join(tmp, "bundle"), filepath.Join(tmp, "job")} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s stays after the refusal: %v", p, err)
				}
			}
		})
	}
}
