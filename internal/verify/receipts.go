package verify

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// checkReceipts checks the receipt records of the manifest's artifacts
// (arts, reported in r.Subjects in the same order) under the policy's log
// section: every receipt listed must verify under the log's key and its
// entry must admit a release naming the artifact with its digest; with
// "receipts: required" an artifact needs at least one such receipt.
func (v *Verifier) checkReceipts(r *Report, m *artifact.Manifest, dir string, arts []artifact.Record) {
	lp := v.policy.Log
	if lp.Receipts == "" || lp.Receipts == policy.ReceiptsOff {
		return
	}
	for i, a := range arts {
		rep := r.Subjects[i]
		good := 0
		for _, rec := range m.Describing(a.Digest) {
			if rec.Role != artifact.RoleReceipt {
				continue
			}
			path := filepath.Join(dir, filepath.FromSlash(rec.Path))
			msg, err := checkReceipt(path, dir, rec, a, lp)
			if err != nil {
				rep.fail(CheckReceipt, path, "%v", err)
				continue
			}
			good++
			rep.pass(CheckReceipt, path, lp.Verifier.Name(), "%s", msg)
		}
		if good == 0 && lp.Receipts == policy.ReceiptsRequired && !hasCheck(rep, CheckReceipt) {
			rep.fail(CheckReceipt, "", "the manifest lists no receipt for %q sha256:%s, and the policy requires one (log.receipts: required): upload the release to the control plane (slipway upload) and verify the manifest it updated", a.Name, a.Digest.Hex())
		}
	}
}

func hasCheck(rep *SubjectReport, check string) bool {
	for _, c := range rep.Checks {
		if c.Check == check {
			return true
		}
	}
	return false
}

// checkReceipt reads the receipt file of record rec (inside the workspace
// dir) and checks it proves that the log admitted artifact a. It returns
// what passed, or what failed and what to do.
func checkReceipt(path, dir string, rec, a artifact.Record, lp policy.Log) (string, error) {
	f, err := openFile(Subject{Workspace: dir}, path)
	if err != nil {
		return "", fmt.Errorf("the receipt cannot be read: %v; check the path", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, receipt.MaxSize+1))
	if err != nil {
		return "", fmt.Errorf("the receipt cannot be read: %v", err)
	}
	if got := digest.SHA256(sha256.Sum256(data)); got != rec.Digest {
		return "", fmt.Errorf("the receipt is %s, but the manifest records %s: it changed after it was recorded; use the receipt the log returned", got, rec.Digest)
	}
	rc, err := receipt.Parse(data)
	if err != nil {
		return "", err
	}
	if err := receipt.Verify(rc, nil, lp.Verifier); err != nil {
		if errors.Is(err, receipt.ErrSignature) {
			return "", fmt.Errorf("the receipt is not from the log the policy trusts: %w", err)
		}
		return "", err
	}
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		return "", fmt.Errorf("the receipt verifies, but its log entry %d does not read: %w", rc.Index, err)
	}
	if !e.Admits() {
		return "", fmt.Errorf("log entry %d records %q (release %q, failed check %q), not an admission: the control plane refused this release; fix the failed check and upload again", rc.Index, e.Kind, e.Release, e.Check)
	}
	want := a.Digest.Hex()
	if got, ok := e.Digest(a.Name); ok && got != want {
		return "", fmt.Errorf("log entry %d admitted %q with sha256:%s, but the artifact is sha256:%s: the artifact is not the one the log admitted", rc.Index, a.Name, got, want)
	} else if !ok {
		return "", fmt.Errorf("log entry %d (release %q) does not name %q: the receipt is another release's; use the receipt of the upload that admitted this artifact", rc.Index, e.Release, a.Name)
	}
	cp, err := rc.Tree(lp.Verifier)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("log %q admitted %q sha256:%s in release %q (entry %d of %d, uploader %q, %s)",
		cp.Origin, a.Name, want, e.Release, rc.Index, cp.Size, e.Uploader, e.Time.Format("2006-01-02T15:04:05Z07:00")), nil
}
