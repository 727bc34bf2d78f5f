package server_test

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// writeOutputs writes into dir the outputs manifest of a job that ran the
// release in: result.txt (content) with its slurm-dispatch provenance
// naming the input release as run.
func (s *signer) writeOutputs(t *testing.T, dir string, content []byte, run provenance.SlurmRun) {
	t.Helper()
	run.Outputs = []artifact.Subject{{Name: "result.txt", Digest: digest.SHA256(sha256.Sum256(content))}}
	st, err := provenance.NewSlurm(run)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	policytest.WriteSigned(t, dir, s.kp, "result.txt", content, raw)
}

// TestAdmitOutputs: the outputs of a dispatched job are admitted as
// outputs-admitted, naming the input release and its log index, when that
// release was admitted here with that manifest and index; an output naming
// a release this server never admitted, or the right release with another
// manifest digest or log index, is refused (422, check inputs) and the
// refusal logged.
func TestAdmitOutputs(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site, rel := admitted(t, s, s.writePolicy(t, t.TempDir(), ""))
	tok := site.token(t, "hpc-outputs", token.Upload, token.Read)
	manifest, err := digest.Parse(rel.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	run := provenance.SlurmRun{Release: rel.ReleaseID, ManifestDigest: manifest, LogIndex: rel.LogIndex,
		Inputs:     []artifact.Subject{{Name: rel.Artifacts[0].Name, Digest: digest.SHA256(sha256.Sum256([]byte("the job's program")))}},
		Repository: testSource, Artifact: "app.bin", Command: []string{"./app.bin"}, Partition: "debug",
		JobID: 4711, State: "COMPLETED", BuilderID: testBuilder, Started: time.Now().Add(-time.Minute), Finished: time.Now(),
		InvocationID: "slipway:v1:run=1.1:job=run:release=" + rel.ReleaseID + ":spec=0123456789abcdef"}

	for _, tc := range []struct {
		name   string
		edit   func(*provenance.SlurmRun)
		detail string // "" = admitted
	}{
		{"the release the server admitted", func(*provenance.SlurmRun) {}, ""},
		{"a release never admitted here", func(r *provenance.SlurmRun) { r.Release = "r-00000000000000aa" }, `input release "r-00000000000000aa"`},
		{"another log index", func(r *provenance.SlurmRun) { r.LogIndex++ }, "log index"},
		{"another manifest", func(r *provenance.SlurmRun) { r.ManifestDigest = digest.SHA256(sha256.Sum256([]byte("x"))) }, "was admitted with manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run
			tc.edit(&r)
			dir := t.TempDir()
			s.writeOutputs(t, dir, []byte("result of "+tc.name), r)
			code, a := admit(t, site.url, tok, uploadAll(t, site.url, tok, dir))
			rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt)
			e, err := entry.Parse(rc.Entry)
			if err != nil {
				t.Fatal(err)
			}
			if tc.detail != "" {
				if code != http.StatusUnprocessableEntity || a.Check != "inputs" || !strings.Contains(a.Detail, tc.detail) || e.Kind != entry.KindReleaseRejected {
					t.Fatalf("%d %+v (entry %s), want 422 check inputs naming %q", code, a, e.Kind, tc.detail)
				}
				return
			}
			if code != http.StatusCreated || e.Kind != entry.KindOutputsAdmitted || len(e.Inputs) != 1 ||
				e.Inputs[0] != (entry.Input{Release: rel.ReleaseID, LogIndex: rel.LogIndex}) || e.Source != "https://github.com/acme/app" || !e.Admits() {
				t.Fatalf("%d %+v, entry %+v", code, a, e)
			}
		})
	}
}
