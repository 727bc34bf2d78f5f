package export

import (
	"fmt"
	"time"
)

// readme is README.txt: what the directory holds and how to verify it.
func readme(src Source, rel Release, at time.Time) []byte {
	return fmt.Appendf(nil, `Release %[1]s, exported by slipway export on %[2]s
from %[3]s.

What is here
  %[4]s        the admitted build manifest (manifest digest %[5]s),
                       with one receipt record per artifact
  the other files      every file the manifest records, at its path; each was
                       checked against the manifest's digest as it arrived
  %[1]s.receipt  the release's receipt: proof that entry %[6]d of the
                       transparency log admitted it (C2SP tlog-proof)
  %[7]s              the log's note verifier key, as the source gave it

How to verify, offline, in this directory
  slipway verify --manifest %[4]s --policy POLICY

POLICY is your site's trust policy (the keys or identities and builders you
trust, apiVersion slipway.dev/v1) with a log section requiring receipts:

  log:
    verifierKey: %[7]s    # relative to the policy file; or paste the key line
    receipts: required

Trust %[7]s only as far as you trust where this export came from: compare
it with the key your site published (GET /api/v1/log/key on its server)
before you rely on it, and keep the policy outside this directory. A changed
file, signature, provenance, SBOM or receipt fails the verification.
`, rel.ID, at.UTC().Format(time.RFC3339), src, ManifestFile, rel.ManifestDigest, rel.LogIndex, KeyFile)
}
