package e2e

import (
	"bytes"
	"encoding/base64"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/registry"
)

// TestFoundation runs build → sbom → push as actions under act against a real registry, checks every output
// against the files and the registry, then runs the workflow again on changed sources: pushing other content
// under the same tag must fail the job and leave the tag alone.
func TestFoundation(t *testing.T) {
	takeTurn(t)
	reg := registry.Start(t)
	ref := reg + "/e2e/hello:1.0.0"
	r := Run(t, Scenario{Workflow: "testdata/workflows/foundation.yml", Inputs: map[string]string{"ref": ref}})
	r.RequireSuccess(t)

	// build: the subjects file lists both artifacts with the digests of the files built, and base64-subjects
	// is that file.
	helloDigest := fileDigest(t, r.OutPath("hello"))
	tarDigest := fileDigest(t, r.OutPath("hello-src.tar.gz"))
	subjectsPath := r.Value(t, "subjects-file")
	subjectsData := readFile(t, r.OutPath(path.Base(subjectsPath)))
	subjects, err := artifact.ParseSubjects(bytes.NewReader(subjectsData), subjectsPath)
	if err != nil {
		t.Fatal(err)
	}
	wantSubjects := []artifact.Subject{{Name: "dist/hello", Digest: helloDigest}, {Name: "dist/hello-src.tar.gz", Digest: tarDigest}}
	if !slices.Equal(subjects, wantSubjects) {
		t.Errorf("subjects file = %v, want %v", subjects, wantSubjects)
	}
	b64, err := base64.StdEncoding.DecodeString(r.Value(t, "base64-subjects"))
	if err != nil || !bytes.Equal(b64, subjectsData) {
		t.Errorf("base64-subjects decodes to %q (%v), want the subjects file %q", b64, err, subjectsData)
	}

	// sbom: bound to the tarball's digest, named in the SBOM itself, recorded in the manifest.
	sbomPath := r.Value(t, "sbom-path")
	sbomFile := r.OutPath(path.Base(sbomPath))
	sbomDigest := fileDigest(t, sbomFile)
	if got := r.Value(t, "sbom-digest"); got != sbomDigest.String() {
		t.Errorf("sbom-digest = %q, want the SBOM file's %s", got, sbomDigest)
	}
	if got := r.Value(t, "sbom-subject-digest"); got != tarDigest.String() {
		t.Errorf("sbom subject-digest = %q, want the tarball's %s", got, tarDigest)
	}
	if !bytes.Contains(readFile(t, sbomFile), []byte(tarDigest.Hex())) {
		t.Errorf("the SBOM %s does not name the tarball's sha256 %s", sbomPath, tarDigest.Hex())
	}
	man, err := artifact.ReadManifest(r.OutPath(path.Base(r.Value(t, "manifest"))))
	if err != nil {
		t.Fatal(err)
	}
	var files []artifact.Subject
	for _, rec := range man.ByRole(artifact.RoleArtifact) {
		if rec.Path != "" {
			files = append(files, artifact.Subject{Name: rec.Name, Digest: rec.Digest})
		}
	}
	if !slices.Equal(files, wantSubjects) {
		t.Errorf("manifest artifact files = %v, want %v", files, wantSubjects)
	}
	if d := man.Describing(tarDigest); len(d) != 1 || d[0].Role != artifact.RoleSBOM || d[0].Digest != sbomDigest {
		t.Errorf("manifest records describing the tarball = %+v, want one sbom record with digest %s", d, sbomDigest)
	}
	if man.Build == nil || man.Build.Command != "sh build.sh dist" {
		t.Errorf("manifest build info = %+v, want the command that ran", man.Build)
	}

	// push: the registry holds the digest under the tag, as one artifact of the three files.
	dgst := r.Value(t, "digest")
	if got, want := r.Value(t, "pinned-ref"), reg+"/e2e/hello@"+dgst; got != want {
		t.Errorf("pinned-ref = %q, want %q", got, want)
	}
	if !slices.ContainsFunc(man.Records, func(rec artifact.Record) bool {
		return rec.URI == r.Value(t, "pinned-ref") && rec.Digest.String() == dgst
	}) {
		t.Errorf("the manifest has no record of the push to %s: %+v", r.Value(t, "pinned-ref"), man.Records)
	}
	if got := r.Output("foundation", "push", "digest"); got != dgst {
		t.Errorf("act logged push's digest output as %q, the workflow reported %q", got, dgst)
	}
	if got := tagDigest(t, ref); got != dgst {
		t.Errorf("the registry's %s is %s, want the pushed %s", ref, got, dgst)
	}
	desc, err := remote.Get(mustRef(t, r.Value(t, "pinned-ref")))
	if err != nil {
		t.Fatalf("fetching the pinned ref: %v", err)
	}
	if desc.Digest.String() != dgst {
		t.Errorf("the registry serves %s for the pinned ref, want %s", desc.Digest, dgst)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.String())
	}
	want := []string{helloDigest.String(), tarDigest.String(), sbomDigest.String()}
	if !slices.Equal(got, want) {
		t.Errorf("pushed layers = %v, want hello, tarball, SBOM %v", got, want)
	}

	// Tags are immutable: a build of other sources pushed under the same tag fails the job; the tag stays.
	r2 := Run(t, Scenario{Workflow: "testdata/workflows/foundation.yml", Inputs: map[string]string{"ref": ref},
		Files: map[string]string{"VERSION": "1.0.1\n"}})
	if r2.Err == nil || r2.Jobs["foundation"] != "failure" {
		t.Fatalf("pushing other content under %s: act exit %v, jobs %v; want the job to fail", ref, r2.Err, r2.Jobs)
	}
	if got := r2.Value(t, "push-outcome"); got != "failure" {
		t.Errorf("push step outcome = %q, want failure (failed steps: %v)", got, r2.FailedSteps())
	}
	if !r2.Logged(dgst) {
		t.Errorf("the refused push does not name the digest the tag holds, %s", dgst)
	}
	if failed := r2.FailedSteps(); len(failed) != 1 || !strings.HasPrefix(failed[0], "foundation/push ") {
		t.Errorf("failed steps = %v, want only push", failed)
	}
	if fileDigest(t, r2.OutPath("hello-src.tar.gz")) == tarDigest {
		t.Errorf("the second build made the same tarball: the test changes nothing")
	}
	if got := tagDigest(t, ref); got != dgst {
		t.Errorf("after the refused push %s is %s, want it left at %s", ref, got, dgst)
	}
}

func fileDigest(t *testing.T, p string) digest.SHA256 {
	t.Helper()
	d, _, err := digest.File(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readFile reads a small file the workflow handed over (a subjects file, a manifest, an SBOM).
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
