package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/workspace"
)

// releasesPath is the admission endpoint.
const releasesPath = "/api/v1/releases"

// maxReleaseAnswer bounds the admission's answer: a receipt (at most
// receipt.MaxSize), the artifacts and the check lines.
const maxReleaseAnswer = 8 << 20

// Release is the server's answer to an admission (API7.md).
type Release struct {
	ID             string            `json:"releaseId"`
	LogIndex       uint64            `json:"logIndex"`
	Receipt        string            `json:"receipt"`
	ManifestDigest string            `json:"manifestDigest"`
	Artifacts      []Admitted        `json:"artifacts"`
	Checks         []json.RawMessage `json:"checks"`
}

// Admitted is an artifact of an admitted release.
type Admitted struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// releaseID is what a release id may be: it names a file.
var releaseID = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ReferenceMediaType is the Content-Type of an admission by reference
// (API7.md).
const ReferenceMediaType = "application/vnd.slipway.reference+json"

// admit posts the manifest's bytes and reads the answer.
func (c *client) admit(ctx context.Context, raw []byte) (*Release, bool, error) {
	return c.post(ctx, raw, "application/json")
}

// admitReference asks the server to admit the image ref by reference.
func (c *client) admitReference(ctx context.Context, ref string) (*Release, bool, error) {
	raw, err := json.Marshal(struct {
		Reference string `json:"reference"`
	}{ref})
	if err != nil {
		return nil, false, err
	}
	return c.post(ctx, raw, ReferenceMediaType)
}

// post sends an admission request and reads the answer.
func (c *client) post(ctx context.Context, raw []byte, contentType string) (*Release, bool, error) {
	const op = "admitting the release"
	u, err := c.url(releasesPath)
	if err != nil {
		return nil, false, err
	}
	resp, err := c.send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(raw))
		if err == nil {
			req.Header.Set("Content-Type", contentType)
		}
		return req, err
	})
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, false, readProblem(op, resp)
	}
	created := resp.StatusCode == http.StatusCreated
	body, err := readBody(resp, maxReleaseAnswer)
	if err != nil {
		return nil, false, exitcode.Infra(fmt.Errorf("%s: reading the answer: %w", op, err))
	}
	rel, err := parseRelease(body)
	if err != nil {
		return nil, false, exitcode.Infra(fmt.Errorf("%s: the server answered %d, but %w; tell the server's operator", op, resp.StatusCode, err))
	}
	return rel, created, nil
}

// parseRelease reads and checks an admission's answer: an id that can name
// a file, and a receipt of the log entry the answer names.
func parseRelease(body []byte) (*Release, error) {
	var rel Release
	if err := json.Unmarshal(body, &rel); err != nil {
		return nil, fmt.Errorf("its answer is not the release JSON: %v", err)
	}
	if !releaseID.MatchString(rel.ID) {
		return nil, fmt.Errorf("its release id %q is not a plain name", clean(trimTo(rel.ID, 120)))
	}
	rc, err := receipt.Parse([]byte(rel.Receipt))
	if err != nil {
		return nil, fmt.Errorf("its receipt does not read: %v", err)
	}
	if rc.Index != rel.LogIndex {
		return nil, fmt.Errorf("its receipt is of log entry %d, not of entry %d it names", rc.Index, rel.LogIndex)
	}
	for _, a := range rel.Artifacts {
		if _, err := digest.Parse(a.Digest); err != nil {
			return nil, fmt.Errorf("artifact %q: %v", clean(trimTo(a.Name, 200)), err)
		}
	}
	return &rel, nil
}

// record writes the receipt, one copy per admitted artifact beside it
// (ARTIFACT.receipt), and adds their records to the manifest, rewritten
// atomically.
func record(o Options, manifestPath string, m *artifact.Manifest, res *Result) error {
	if err := writeReceipt(o, filepath.Dir(manifestPath), res); err != nil {
		return err
	}
	data := []byte(res.Receipt)
	d := digest.SHA256(sha256.Sum256(data))
	for _, a := range res.Artifacts {
		ad, _ := digest.Parse(a.Digest)
		rec, ok := artifactRecord(m, a.Name, ad)
		if !ok {
			return exitcode.Infraf("the server admitted %q (%s), which the manifest %q does not list as an artifact; tell the server's operator", clean(trimTo(a.Name, 200)), ad, o.Manifest)
		}
		if artifact.CheckPath(rec.Name) != nil {
			continue // an image in a registry: no file to put a receipt beside
		}
		name := rec.Name + artifact.ReceiptExt
		if _, err := writeInside(o.Dir, filepath.FromSlash(name), data); err != nil {
			return exitcode.WithFile(err, name)
		}
		r := artifact.NewReceipt(name, d, int64(len(data)), rec.Digest)
		m.Add(r)
		res.Records = append(res.Records, r)
	}
	if err := m.WriteFile(manifestPath); err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("recording the receipts in the manifest: %w", err)), o.Manifest)
	}
	return nil
}

// writeReceipt writes the release's receipt to o.Receipt, or to
// RELEASE-ID.receipt in dir, and sets res.ReceiptPath.
func writeReceipt(o Options, dir string, res *Result) error {
	out := o.Receipt
	if out == "" {
		out = filepath.Join(dir, res.ID+artifact.ReceiptExt)
	}
	p, err := writeInside(o.Dir, out, []byte(res.Receipt))
	if err != nil {
		return exitcode.WithFile(err, out)
	}
	res.ReceiptPath = p
	return nil
}

func artifactRecord(m *artifact.Manifest, name string, d digest.SHA256) (artifact.Record, bool) {
	for _, r := range m.ByRole(artifact.RoleArtifact) {
		if r.Name == name && r.Digest == d {
			return r, true
		}
	}
	return artifact.Record{}, false
}

// writeInside writes data atomically to p (relative to dir, or absolute),
// which must lead inside dir; it returns the resolved path.
func writeInside(dir, p string, data []byte) (string, error) {
	r, err := workspace.Resolve(dir, p)
	if err != nil {
		return "", exitcode.BadInput(fmt.Errorf("writing the receipt: %w", err))
	}
	if err := atomicfile.WriteFile(r, data, 0o644); err != nil {
		return "", exitcode.Infra(fmt.Errorf("writing the receipt %q: %w; check the disk and the directory's permissions", p, err))
	}
	return r, nil
}
