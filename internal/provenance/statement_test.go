package provenance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

func subject(t testing.TB, name, hex string) artifact.Subject {
	t.Helper()
	d, err := digest.ParseHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return artifact.Subject{Name: name, Digest: d}
}

const hexA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func localBuilder(t testing.TB) *Builder {
	b, err := DetectBuilder(BuilderConfig{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	build := &artifact.BuildInfo{Repository: "git+https://example.com/r", Commit: strings.Repeat("a", 40)}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no builder", Options{Subjects: []artifact.Subject{subject(t, "a", hexA)}, Build: build}, "no builder"},
		{"no subjects", Options{Build: build, Builder: localBuilder(t)}, "no subjects"},
		{"duplicate subject", Options{Subjects: []artifact.Subject{subject(t, "a", hexA), subject(t, "a", hexA)}, Build: build, Builder: localBuilder(t)}, `subject "a" is listed twice`},
		{"subject without digest", Options{Subjects: []artifact.Subject{{Name: "a"}}, Build: build, Builder: localBuilder(t)}, `subject "a" has no digest`},
		{"nothing known", Options{Subjects: []artifact.Subject{subject(t, "a", hexA)}, Builder: localBuilder(t)}, "nothing is known about how the subjects were built"},
		{"bad commit", Options{Subjects: []artifact.Subject{subject(t, "a", hexA)}, Build: &artifact.BuildInfo{Repository: "git+https://example.com/r", Commit: "xyz"}, Builder: localBuilder(t)}, "resolvedDependencies[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	_, err := New(tests[4].opts)
	if !errors.Is(err, ErrNothingKnown) {
		t.Errorf("error %v does not wrap ErrNothingKnown", err)
	}
}

// TestDirtySourceIsNotClaimed proves that a build from a modified work tree
// does not name its base commit as the source's digest.
func TestDirtySourceIsNotClaimed(t *testing.T) {
	t.Parallel()
	commit := strings.Repeat("b", 40)
	st, err := New(Options{
		Subjects: []artifact.Subject{subject(t, "a", hexA)},
		Build:    &artifact.BuildInfo{Repository: "git+https://example.com/r", Ref: "refs/heads/x", Commit: commit, Dirty: true},
		Builder:  localBuilder(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	deps := st.GetPredicate().GetFields()["buildDefinition"].GetStructValue().GetFields()["resolvedDependencies"].GetListValue().GetValues()
	src := deps[0].GetStructValue().GetFields()
	if _, ok := src["digest"]; ok {
		t.Errorf("dirty source claims a digest: %v", src)
	}
	ann := src["annotations"].GetStructValue().GetFields()
	if !ann["dirty"].GetBoolValue() || ann["baseGitCommit"].GetStringValue() != commit {
		t.Errorf("annotations = %v", ann)
	}
}

// TestBareSubjectOnGitHub: without a manifest, only what the run says is
// claimed: the triggering commit and the workflow, no build times.
func TestBareSubjectOnGitHub(t *testing.T) {
	t.Parallel()
	b, err := DetectBuilder(BuilderConfig{Getenv: env(githubEnv("github-hosted", "r"))})
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(Options{Subjects: []artifact.Subject{subject(t, "app", hexA)}, Builder: b})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"uri":"git+https://github.com/slipway-demo/hello@refs/heads/main"`,
		`"gitCommit":"4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4"`,
		`"invocationId":"https://github.com/slipway-demo/hello/actions/runs/123456789/attempts/2"`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("statement lacks %s:\n%s", want, out)
		}
	}
	for _, absent := range []string{"startedOn", "finishedOn", "command", "sourceDateEpoch"} {
		if bytes.Contains(out, []byte(absent)) {
			t.Errorf("statement claims %s without a build record:\n%s", absent, out)
		}
	}
}

// FuzzManifestStatement drives the manifest → statement path with arbitrary
// manifests: it must never panic, and every statement it makes must parse
// back, validate and keep the manifest's subjects.
func FuzzManifestStatement(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"mediaType":"application/vnd.slipway.artifacts.v1+json","build":{"repository":"x","commit":"` + strings.Repeat("0", 40) + `","dirty":true,"sourceDateEpoch":-1,"startedOn":"0001-01-01T00:00:00Z","finishedOn":"9999-12-31T23:59:59Z"},"artifacts":[]}`))
	b := localBuilder(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := artifact.Decode(bytes.NewReader(in), "fuzz.json")
		if err != nil {
			return
		}
		st, err := New(Options{Subjects: m.Subjects(), Build: m.Build, Builder: b, Version: "v"})
		if err != nil {
			return
		}
		out, err := Marshal(st)
		if err != nil {
			t.Fatalf("Marshal() of a valid statement: %v", err)
		}
		var back intoto.Statement
		if err := protojson.Unmarshal(out, &back); err != nil {
			t.Fatalf("statement does not parse back: %v\n%s", err, out)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("parsed statement is invalid: %v", err)
		}
		if len(back.GetSubject()) != len(m.Subjects()) {
			t.Fatalf("subjects: %d, want %d", len(back.GetSubject()), len(m.Subjects()))
		}
	})
}
