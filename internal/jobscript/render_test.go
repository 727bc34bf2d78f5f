package jobscript

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func baseSpec() Spec {
	return Spec{
		Slipway:    "/opt/slipway/bin/slipway",
		Artifact:   "/shared/work/app.tar.gz",
		Digest:     testDigest,
		Argv:       []string{"./run", "--input", "it's $HOME; `id` | cat > /etc/passwd", ""},
		StatusFile: "/shared/work/.slipway/job-%j.status",
		Unpack:     true,
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	signed := baseSpec()
	signed.Policy = "/shared/policy.yaml"
	signed.Bundles = []string{"/shared/work/app.tar.gz.sigstore.json", "/shared/work/app.tar.gz.asc"}
	file := baseSpec()
	file.Unpack = false
	file.Artifact = "/shared/work/hello"
	file.Argv = []string{"/shared/work/hello", "--name", "world"}
	file.JobDir = "/shared/work/job-%j"
	file.StagingRoot = "/shared/work"
	copied := file
	copied.StagingRoot, copied.Copy = "", true
	memory := file
	memory.JobDir, memory.StagingRoot = "", ""
	image := signed
	image.Unpack = false
	image.Artifact = "/shared/work/.slipway/release-r-1/dist/image/blobs/sha256/" + strings.TrimPrefix(testDigest, "sha256:")
	image.ImageLayout = "/shared/work/.slipway/release-r-1/dist/image"
	image.JobDir = "/shared/work/job-%j"
	image.Argv = nil
	podman := image
	podman.ContainerRuntime, podman.ContainerNetwork = "podman", "host"
	podman.Argv = []string{"/app", "--flag"}
	for name, s := range map[string]Spec{"unpack": baseSpec(), "signed": signed, "file-in-place": file, "file-copy": copied, "file-in-memory": memory, "image": image, "image-podman": podman} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".sh")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Render(%s) differs from %s (go test -update rewrites it):\n%s", name, golden, got)
			}
		})
	}
}

// asImage makes a refusal case's spec an image job in jobDir run with
// runtime on network.
func asImage(runtime, network, jobDir string) func(*Spec) {
	return func(s *Spec) {
		s.Unpack = false
		s.JobDir, s.ImageLayout, s.ContainerRuntime, s.ContainerNetwork = jobDir, "/w/image", runtime, network
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"relative slipway", func(s *Spec) { s.Slipway = "slipway" }, "slipway \"slipway\": not an absolute path"},
		{"empty artifact", func(s *Spec) { s.Artifact = "" }, "artifact: empty"},
		{"unclean artifact", func(s *Spec) { s.Artifact = "/shared/../etc/passwd" }, "not a clean path"},
		{"newline in artifact", func(s *Spec) { s.Artifact = "/shared/a\nb" }, "control character at byte 9"},
		{"NUL in artifact", func(s *Spec) { s.Artifact = "/shared/a\x00b" }, "control character"},
		{"percent in artifact", func(s *Spec) { s.Artifact = "/shared/a%jb" }, "holds a %"},
		{"bad digest", func(s *Spec) { s.Digest = "sha256:abc" }, "digest \"sha256:abc\""},
		{"digest with a quote", func(s *Spec) { s.Digest = "sha256:'; rm -rf /; '" }, "digest"},
		{"bundles without policy", func(s *Spec) { s.Bundles = []string{"/b.json"} }, "bundles given without a policy"},
		{"copy with unpack", func(s *Spec) { s.Copy, s.JobDir = true, "/shared/job" }, "copy without a job directory, or with unpack"},
		{"staging root with unpack", func(s *Spec) { s.StagingRoot = "/shared/work" }, "a staging root is only for the in-place check"},
		{"artifact outside the staging root", func(s *Spec) { s.Unpack, s.JobDir, s.StagingRoot = false, "/shared/job", "/shared/other" }, "is not under the staging root"},
		{"staging root a sibling prefix", func(s *Spec) { s.Unpack, s.JobDir, s.StagingRoot = false, "/shared/job", "/shared/wo" }, "is not under the staging root"},
		{"relative staging root", func(s *Spec) { s.Unpack, s.JobDir, s.StagingRoot = false, "/shared/job", "shared" }, "staging root \"shared\": not an absolute path"},
		{"relative bundle", func(s *Spec) { s.Policy = "/p.yaml"; s.Bundles = []string{"b.json"} }, "bundle \"b.json\": not an absolute path"},
		{"comma in a bundle", func(s *Spec) { s.Policy = "/p.yaml"; s.Bundles = []string{"/a,b.json"} }, "holds a comma"},
		{"other pattern in status", func(s *Spec) { s.StatusFile = "/w/job-%u.status" }, "%j (the job id) is the only % pattern"},
		{"relative job dir", func(s *Spec) { s.JobDir = "job-%j" }, "job directory \"job-%j\": not an absolute path"},
		{"no status", func(s *Spec) { s.StatusFile = "" }, "status file: empty"},
		{"no command", func(s *Spec) { s.Argv = nil }, "no command"},
		{"empty argv0", func(s *Spec) { s.Argv = []string{""} }, "no command"},
		{"image without a job dir", func(s *Spec) { s.Unpack = false; s.ImageLayout = "/w/image" }, "an image job needs a job directory"},
		{"image unpacked", func(s *Spec) { s.JobDir = "/w/job-%j"; s.ImageLayout = "/w/image" }, "cannot be unpacked"},
		{"podman for a file", func(s *Spec) { s.ContainerRuntime = "podman" }, "without an image"},
		{"unknown runtime", asImage("docker", "", "/w/job-%j"), "give slurm"},
		{"network with srun", asImage("", "host", "/w/job-%j"), "without the podman runtime"},
		{"unknown network", asImage("podman", "bridge", "/w/job-%j"), "give none"},
		{"podman and a comma", asImage("podman", "", "/w,x/job-%j"), "podman's --mount would split"},
		{"relative image layout", func(s *Spec) { s.Unpack = false; s.JobDir = "/w/job-%j"; s.ImageLayout = "image" }, "image layout \"image\": not an absolute path"},
		{"image, empty argv0", func(s *Spec) {
			s.Unpack = false
			s.JobDir = "/w/job-%j"
			s.ImageLayout = "/w/image"
			s.Argv = []string{""}
		}, "no command"},
		{"NUL in a word", func(s *Spec) { s.Argv = []string{"run", "a\x00b"} }, "command word 1 (\"a\\x00b\") holds a NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := baseSpec()
			tc.edit(&s)
			b, err := Render(s)
			if err == nil {
				t.Fatalf("Render accepted it:\n%s", b)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// fakeSlipway writes a stand-in for the slipway binary that prints its
// arguments NUL-terminated and exits with the code in $FAKE_RC.
func fakeSlipway(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "slipway")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nprintf '%s\\0' \"$@\"\nexit \"${FAKE_RC:-0}\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// runScript runs script with sh as Slurm would (SLURM_JOB_ID set) and
// returns its stdout and exit code.
func runScript(t testing.TB, dir string, script []byte, rc string) ([]byte, int) {
	t.Helper()
	p := filepath.Join(dir, "job.sh")
	if err := os.WriteFile(p, script, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", p)
	cmd.Env = []string{"SLURM_JOB_ID=42", "TMPDIR=" + dir, "PATH=/usr/bin:/bin", "FAKE_RC=" + rc}
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the script: %v", err)
	}
	if stderr.Len() > 0 {
		t.Errorf("the script wrote to stderr: %s", stderr.Bytes())
	}
	return out, code
}

// wantArgs are the arguments the script passes to slipway for s, with dir
// the job directory it chose.
func wantArgs(s Spec, dir string) []string {
	want := []string{"exec-verified", "--digest", s.Digest, "--file", s.Artifact}
	if s.Policy != "" {
		want = append(want, "--policy", s.Policy)
	}
	for _, b := range s.Bundles {
		want = append(want, "--bundles", b)
	}
	want = append(want, "--status", strings.ReplaceAll(s.StatusFile, "%j", "42"))
	switch {
	case s.Unpack:
		want = append(want, "--unpack", dir)
	case s.JobDir != "":
		want = append(want, "--copy", dir)
	}
	return append(append(want, "--"), s.Argv...)
}

func splitNUL(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// TestRenderRuns runs rendered scripts with sh: the arguments arrive as they
// were given, the status file says the exit code, the temporary job
// directory is gone afterwards.
func TestRenderRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rc   string
	}{{"success", "0"}, {"failure", "3"}, {"refused", "65"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := baseSpec()
			s.Slipway = fakeSlipway(t, dir)
			s.StatusFile = filepath.Join(dir, "job-%j.status")
			script, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			out, code := runScript(t, dir, script, tc.rc)
			got := splitNUL(out)
			jobDir := got[len(got)-len(s.Argv)-2]
			if !strings.HasPrefix(jobDir, dir+"/slipway-job.") || !strings.HasSuffix(jobDir, "/job") {
				t.Errorf("job directory %q is not a new one under TMPDIR %q", jobDir, dir)
			}
			if want := wantArgs(s, jobDir); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("slipway got %q, want %q", got, want)
			}
			if want := map[string]int{"0": 0, "3": 3, "65": 65}[tc.rc]; code != want {
				t.Errorf("exit code %d, want %d", code, want)
			}
			st, err := os.ReadFile(filepath.Join(dir, "job-42.status"))
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"version":1,"jobId":"42","exitCode":` + tc.rc + `,"verified":true}` + "\n"; string(st) != want {
				t.Errorf("status file %q, want %q", st, want)
			}
			if _, err := os.Stat(filepath.Dir(jobDir)); !os.IsNotExist(err) {
				t.Errorf("the temporary job directory is still there: %v", err)
			}
		})
	}
}

// TestRenderKeepsRefusal: a status file exec-verified wrote (its refusal)
// is left as it is.
func TestRenderKeepsRefusal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := baseSpec()
	s.StatusFile = filepath.Join(dir, "job-%j.status")
	refusal := `{"version":1,"jobId":"42","exitCode":65,"verified":false,"check":"digest","detail":"x"}` + "\n"
	fake := filepath.Join(dir, "slipway")
	body := "#!/bin/sh\nprintf '%s' '" + refusal + "' >" + Quote(filepath.Join(dir, "job-42.status")) + "\nexit 65\n"
	if err := os.WriteFile(fake, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	s.Slipway = fake
	script, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, code := runScript(t, dir, script, "0"); code != 65 {
		t.Errorf("exit code %d, want 65", code)
	}
	if st, _ := os.ReadFile(filepath.Join(dir, "job-42.status")); string(st) != refusal {
		t.Errorf("status file %q, want exec-verified's %q", st, refusal)
	}
}

// FuzzRender: for any argv and artifact name Render accepts, sh passes
// exactly that argv (and path) to slipway.
func FuzzRender(f *testing.F) {
	for _, seed := range [][3]string{
		{"run", "it's", "app.tar.gz"},
		{"$(id)", "`id`", "a'b"},
		{"a\nb", "\\", "x y"},
		{"'\"'\"'", "${IFS}", "é"},
		{"-", "--", "\t"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	dir := f.TempDir()
	slipway := fakeSlipway(f, dir)
	f.Fuzz(func(t *testing.T, a, b, name string) {
		s := baseSpec()
		s.Slipway = slipway
		s.Artifact = "/shared/work/" + name
		s.Argv = []string{"run", a, b}
		s.JobDir = filepath.Join(dir, "job-%j")
		s.StatusFile = filepath.Join(dir, "job-%j.status")
		script, err := Render(s)
		if err != nil {
			if !strings.ContainsRune(a+b, 0) && checkPath("artifact", s.Artifact, false) == nil {
				t.Fatalf("Render refused a valid spec: %v", err)
			}
			return
		}
		os.Remove(filepath.Join(dir, "job-42.status"))
		out, code := runScript(t, dir, script, "0")
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		got := splitNUL(out)
		want := wantArgs(s, filepath.Join(dir, "job-42"))
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("slipway got %q, want %q", got, want)
		}
	})
}
