package servertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
)

// Rejection is what POST /api/v1/releases answered for a refused release.
type Rejection struct {
	ReleaseID string `json:"releaseId"`
	LogIndex  uint64 `json:"logIndex"`
	Check     string `json:"check"`
	Subject   string `json:"subject"`
	Detail    string `json:"detail"`
}

// Reject signs a release of content with a key the site's policy does not
// trust, uploads it and has the site refuse it (422, check signature):
// the refusal is logged as a release-rejected entry.
func (s *Site) Reject(t testing.TB, content []byte, source string) Rejection {
	t.Helper()
	kp, _ := policytest.NewKeypair(t)
	dir := t.TempDir()
	policytest.WriteRelease(t, dir, kp, content, Builder, source)
	code, body := s.submit(t, dir)
	var r Rejection
	if err := json.Unmarshal(body, &r); err != nil || code != http.StatusUnprocessableEntity {
		t.Fatalf("uploading a release of %s signed by an untrusted key: %d %s, want 422", source, code, body)
	}
	return r
}

// AdmitOutputs has the site admit content as the output out.txt of Slurm
// job jobID that ran release in, as slipway dispatch uploads a job's
// outputs: signed slurm-dispatch provenance (COMPLETED, exit code 0)
// naming the input release, its manifest digest and log index.
func (s *Site) AdmitOutputs(t testing.TB, in Admission, jobID uint32, content []byte) Admission {
	t.Helper()
	md, err := digest.Parse(in.ManifestDigest)
	if err != nil {
		t.Fatal(err)
	}
	run := provenance.SlurmRun{Outputs: []artifact.Subject{{Name: "out.txt", Digest: digest.SHA256(sha256.Sum256(content))}},
		Release: in.ReleaseID, ManifestDigest: md, LogIndex: in.LogIndex, Artifact: "app.bin", Command: []string{"./app.bin"},
		Partition: "debug", JobID: jobID, NodeList: "node1", State: "COMPLETED", Started: time.Now().Add(-time.Minute), Finished: time.Now(), BuilderID: Builder}
	for _, a := range in.Artifacts {
		d, err := digest.Parse(a.Digest)
		if err != nil {
			t.Fatal(err)
		}
		run.Inputs = append(run.Inputs, artifact.Subject{Name: a.Name, Digest: d})
	}
	st, err := provenance.NewSlurm(run)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policytest.WriteSigned(t, dir, s.kp, "out.txt", content, raw)
	code, body := s.submit(t, dir)
	var a Admission
	if err := json.Unmarshal(body, &a); err != nil || code != http.StatusCreated {
		t.Fatalf("admitting the outputs of job %d of %s: %d %s", jobID, in.ReleaseID, code, body)
	}
	return a
}

// submit uploads the files of the release in dir (its manifest.json) and
// asks the site to admit it.
func (s *Site) submit(t testing.TB, dir string) (int, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Records {
		if r.Path != "" {
			s.putBlob(t, filepath.Join(dir, filepath.FromSlash(r.Path)))
		}
	}
	code, body, _ := s.do(t, "POST", "/api/v1/releases", raw)
	return code, body
}
