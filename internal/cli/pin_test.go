package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	testDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	testSum    = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	testCommit = "0123456789abcdef0123456789abcdef01234567"
)

func TestParsePin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       Pin
		err        string
	}{
		{name: "main", text: "# c\nimage=ghcr.io/slipway/actions:main\nslipway-sha256=\n", want: Pin{Image: Image}},
		{name: "release", text: "image=ghcr.io/slipway/actions@" + testDigest + "\r\nslipway-sha256=" + testSum + "\n",
			want: Pin{Image: "ghcr.io/slipway/actions@" + testDigest, SlipwaySHA256: testSum}},
		{name: "digest without binary", text: "image=ghcr.io/slipway/actions@" + testDigest + "\nslipway-sha256=\n",
			err: "needs the SHA-256 of its /slipway"},
		{name: "tag with binary", text: "image=ghcr.io/slipway/actions:v1\nslipway-sha256=" + testSum + "\n",
			err: "is a tag, which can move"},
		{name: "bad binary digest", text: "image=ghcr.io/slipway/actions@" + testDigest + "\nslipway-sha256=sha256:ABC\n",
			err: "needs the SHA-256"},
		{name: "no registry", text: "image=slipway/actions:main\nslipway-sha256=\n", err: "image:"},
		{name: "twice", text: "image=ghcr.io/a/b:c\nimage=ghcr.io/a/b:d\nslipway-sha256=\n", err: "image is set twice"},
		{name: "missing line", text: "image=ghcr.io/a/b:c\n", err: "needs an image= line and a slipway-sha256= line"},
		{name: "unknown key", text: "image=ghcr.io/a/b:c\nslipway-sha256=\nuser=root\n", err: `pin.env:3: "user=root" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePin(strings.NewReader(tc.text), "pin.env")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePin = %+v, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePin = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestPinUses(t *testing.T) {
	t.Parallel()
	exists := func(rel string) bool {
		return rel == "action.yml" || rel == "actions/build/action.yml" || rel == ".github/workflows/release.yml"
	}
	in := `jobs:
  a:
    steps:
      - uses: actions/checkout@v4
      - uses: slipway/actions/actions/build@v1
        with: {x: "slipway/actions/actions/build@v1"}
      - name: root
        uses: "slipway/actions@v1"   # the whole pipeline
  b:
    uses: slipway/actions/.github/workflows/release.yml@v1
`
	want := strings.NewReplacer("build@v1\n", "build@"+testCommit+"\n", `actions@v1"`, `actions@`+testCommit+`"`,
		"release.yml@v1", "release.yml@"+testCommit).Replace(in)
	comment := "# uses: slipway/actions/.github/workflows/release.yml@v1 (a comment stays)\n"
	in, want = comment+in, comment+want
	out, n, err := PinUses([]byte(in), "w.yml", testCommit, exists)
	if err != nil || n != 3 || string(out) != want {
		t.Fatalf("PinUses = %d, %v:\n%s\nwant 3 uses pinned:\n%s", n, err, out, want)
	}

	for _, tc := range []struct{ name, in, sha, err string }{
		{"missing action", "- uses: slipway/actions/actions/nope@v1\n", testCommit, "actions/nope/action.yml does not exist"},
		{"short sha", "- uses: slipway/actions/actions/build@v1\n", "0123abc", "not a full 40-digit"},
		{"odd form", "- {uses: slipway/actions/actions/build@v1}\n", testCommit, "in a form the pin tool does not know"},
		{"broken yaml", "a: [\n- uses: slipway/actions/actions/build@v1\n", testCommit, "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := PinUses([]byte(tc.in), "w.yml", tc.sha, exists)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("PinUses error = %v, want it to contain %q", err, tc.err)
			}
		})
	}
}

// copyFiles copies the named files of the repository into a new directory.
func copyFiles(t *testing.T, rels ...string) string {
	t.Helper()
	dst := t.TempDir()
	for _, rel := range rels {
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestPinRelease makes the two commits of a release in a copy of this repository's actions and workflows, as
// publish.yml does with cmd/slipway-pin: every action runs the image by digest, actions/image.env holds it and
// the binary's digest, and the release workflow uses our actions by the commit, never by a moving tag.
func TestPinRelease(t *testing.T) {
	t.Parallel()
	rels := []string{PinFile, ".github/workflows/release.yml", "actions/setup/action.yml"}
	for rel := range GeneratedActions(Commands(), Image) {
		rels = append(rels, rel)
	}
	repo := copyFiles(t, rels...)
	image := "ghcr.io/slipway/actions@" + testDigest

	var out strings.Builder
	if err := PinMain([]string{"image", "--repo", repo, "--image", image, "--slipway-sha256", testSum}, &out); err != nil {
		t.Fatal(err)
	}
	pin, err := ReadPin(repo)
	if err != nil || pin != (Pin{Image: image, SlipwaySHA256: testSum}) {
		t.Fatalf("the pin file holds %+v (%v)", pin, err)
	}
	for rel, want := range GeneratedActions(Commands(), image) {
		got, err := os.ReadFile(filepath.Join(repo, rel))
		if err != nil || string(got) != want || !strings.Contains(want, `image: "docker://`+image+`"`) {
			t.Errorf("%s does not run %s (%v)", rel, image, err)
		}
	}

	if err := PinMain([]string{"workflows", "--repo", repo, "--commit", testCommit}, &out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repo, ".github/workflows/release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:- )?uses: slipway/actions[^@\s]*@(\S+)`).FindAllStringSubmatch(string(data), -1)
	if len(uses) == 0 {
		t.Fatal("release.yml uses none of our actions")
	}
	for _, u := range uses {
		if u[1] != testCommit {
			t.Errorf("release.yml: %q, want every use pinned to %s", u[0], testCommit)
		}
	}
	if !strings.Contains(out.String(), "pinned .github/workflows/release.yml to "+testCommit) {
		t.Errorf("output = %q", out.String())
	}

	for _, args := range [][]string{
		{"image", "--repo", repo, "--image", "ghcr.io/slipway/actions:v1", "--slipway-sha256", ""},
		{"workflows", "--repo", t.TempDir(), "--commit", testCommit},
		{"publish"},
		{"trusted-root"},
		{"trusted-root", "--out", filepath.Join(t.TempDir(), "tr.json"), "--tuf-url", "http://127.0.0.1:1"},
	} {
		if err := PinMain(args, &out); err == nil {
			t.Errorf("slipway-pin %q succeeded, want an error", args)
		}
	}
}

func FuzzParsePin(f *testing.F) {
	f.Add("image=ghcr.io/slipway/actions:main\nslipway-sha256=\n")
	f.Add("image=ghcr.io/slipway/actions@" + testDigest + "\nslipway-sha256=" + testSum + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePin(strings.NewReader(s), "f")
		if err == nil && p.Validate() != nil {
			t.Fatalf("ParsePin accepted %+v, which does not validate", p)
		}
	})
}

func FuzzPinUses(f *testing.F) {
	f.Add("- uses: slipway/actions/actions/build@v1\n")
	f.Add("uses: 'slipway/actions@main' # x\n")
	f.Fuzz(func(t *testing.T, s string) {
		out, n, err := PinUses([]byte(s), "f", testCommit, func(string) bool { return true })
		if err != nil {
			return
		}
		if n == 0 && string(out) != s {
			t.Fatalf("nothing pinned, but the content changed: %q → %q", s, out)
		}
	})
}
