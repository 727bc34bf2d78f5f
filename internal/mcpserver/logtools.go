package mcpserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// CheckpointOut is the log's latest checkpoint, its signature checked.
type CheckpointOut struct {
	Origin      string `json:"origin" jsonschema:"the log's name, the checkpoint's first line"`
	TreeSize    uint64 `json:"treeSize" jsonschema:"how many entries the log holds"`
	RootHash    string `json:"rootHash" jsonschema:"base64 RFC 6962 root hash of the tree"`
	Checkpoint  string `json:"checkpoint" jsonschema:"the signed note (C2SP tlog-checkpoint), as served"`
	VerifierKey string `json:"verifierKey" jsonschema:"the log's note verifier key the signature was checked with"`
}

// verifiedCheckpoint fetches the log's key and latest checkpoint and
// checks the checkpoint's signature with the key.
func verifiedCheckpoint(ctx context.Context, c *cpclient.Client) (*log.Checkpoint, note.Verifier, CheckpointOut, error) {
	var out CheckpointOut
	key, err := c.Do(ctx, "reading the log's verifier key", "GET", "/api/v1/log/key", nil, nil)
	if err != nil {
		return nil, nil, out, err
	}
	v, err := receipt.NewVerifier(string(key))
	if err != nil {
		return nil, nil, out, err
	}
	raw, err := c.Do(ctx, "reading the log's checkpoint", "GET", "/log/checkpoint", nil, nil)
	if err != nil {
		return nil, nil, out, err
	}
	cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		return nil, nil, out, fmt.Errorf("the log's checkpoint does not verify with its key %q: %w; do not trust this server's log", v.Name(), err)
	}
	out = CheckpointOut{Origin: cp.Origin, TreeSize: cp.Size, RootHash: base64.StdEncoding.EncodeToString(cp.Hash), Checkpoint: string(raw), VerifierKey: string(key)}
	return cp, v, out, nil
}

func (s *Server) getCheckpoint(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, CheckpointOut, error) {
	_, _, out, err := verifiedCheckpoint(ctx, s.call(req))
	if err != nil {
		return nil, out, toolError("reading the log's checkpoint", err)
	}
	return nil, out, nil
}

// InclusionOut is what prove_inclusion established.
type InclusionOut struct {
	ReleaseID       string `json:"releaseId"`
	LogIndex        uint64 `json:"logIndex"`
	EntryKind       string `json:"entryKind" jsonschema:"release-admitted"`
	ReceiptTreeSize uint64 `json:"receiptTreeSize" jsonschema:"the tree size of the checkpoint the receipt proves inclusion in"`
	ReceiptRootHash string `json:"receiptRootHash"`
	Included        bool   `json:"included" jsonschema:"the receipt's inclusion proof and checkpoint signature verify"`
	LatestTreeSize  uint64 `json:"latestTreeSize"`
	Consistent      bool   `json:"consistent" jsonschema:"the latest checkpoint extends the receipt's (consistency proof checked)"`
}

// proveInclusion checks the release's receipt against the log's key and
// the latest checkpoint's consistency with the receipt's.
func (s *Server) proveInclusion(ctx context.Context, req *mcp.CallToolRequest, in ReleaseIn) (*mcp.CallToolResult, InclusionOut, error) {
	out := InclusionOut{ReleaseID: in.ReleaseID}
	if err := checkID("releaseId", in.ReleaseID, "r-"); err != nil {
		return nil, out, err
	}
	c := s.call(req)
	op := fmt.Sprintf("proving release %q is in the log", in.ReleaseID)
	latest, v, _, err := verifiedCheckpoint(ctx, c)
	if err != nil {
		return nil, out, toolError(op, err)
	}
	raw, err := c.Do(ctx, op, "GET", "/api/v1/releases/"+in.ReleaseID+"/receipt", nil, nil)
	if err != nil {
		return nil, out, toolError(op, err)
	}
	rc, err := receipt.Parse(raw)
	if err != nil {
		return nil, out, fmt.Errorf("%s: %w", op, err)
	}
	if err := receipt.Verify(rc, nil, v); err != nil {
		return nil, out, fmt.Errorf("%s: the receipt does not verify: %w", op, err)
	}
	e, err := entry.Parse(rc.Entry)
	if err != nil || e.Release != in.ReleaseID || !e.Admits() {
		return nil, out, fmt.Errorf("%s: the receipt's entry is not the admission of this release", op)
	}
	cp, _ := rc.Tree(v)
	out.LogIndex, out.EntryKind, out.Included = rc.Index, string(e.Kind), true
	out.ReceiptTreeSize, out.ReceiptRootHash, out.LatestTreeSize = cp.Size, base64.StdEncoding.EncodeToString(cp.Hash), latest.Size
	if err := consistent(ctx, c, cp, latest); err != nil {
		return nil, out, fmt.Errorf("%s: %w", op, err)
	}
	out.Consistent = true
	return nil, out, nil
}

// consistent checks that latest extends old with the server's
// consistency proof.
func consistent(ctx context.Context, c *cpclient.Client, old, latest *log.Checkpoint) error {
	if latest.Size < old.Size {
		return fmt.Errorf("the latest checkpoint (size %d) is older than the receipt's (size %d): the log went back; do not trust it", latest.Size, old.Size)
	}
	q := url.Values{"from": {strconv.FormatUint(old.Size, 10)}, "to": {strconv.FormatUint(latest.Size, 10)}}
	var p struct{ Hashes []string }
	if err := c.JSON(ctx, "reading a consistency proof", "GET", "/api/v1/log/consistency", q, nil, &p); err != nil {
		return err
	}
	hashes := make([][]byte, len(p.Hashes))
	for i, h := range p.Hashes {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			return fmt.Errorf("the consistency proof's hash %d is not base64", i)
		}
		hashes[i] = b
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, latest.Size, hashes, old.Hash, latest.Hash); err != nil {
		return fmt.Errorf("the latest checkpoint is not consistent with the receipt's: %w; the log was rewritten, do not trust it", err)
	}
	return nil
}

// RejectionIn names a log entry.
type RejectionIn struct {
	LogIndex uint64 `json:"logIndex" jsonschema:"the logIndex of the refusal (in the upload's error, or slipway upload's output)"`
}

// RejectionOut explains a release-rejected entry.
type RejectionOut struct {
	LogIndex    uint64     `json:"logIndex"`
	ReleaseID   string     `json:"releaseId"`
	Source      string     `json:"sourceRepository,omitempty"`
	Uploader    string     `json:"uploader"`
	Time        time.Time  `json:"time"`
	Check       string     `json:"check" jsonschema:"the check that failed"`
	Artifacts   []Artifact `json:"artifacts"`
	Explanation string     `json:"explanation" jsonschema:"what the check is and how to fix the release"`
	Included    bool       `json:"included" jsonschema:"the entry is proved to be in the log's latest signed checkpoint"`
}

// explainRejection reads entry logIndex from the log's tiles, proves it
// is in the latest checkpoint, and explains its failed check.
func (s *Server) explainRejection(ctx context.Context, req *mcp.CallToolRequest, in RejectionIn) (*mcp.CallToolResult, RejectionOut, error) {
	out := RejectionOut{LogIndex: in.LogIndex, Artifacts: []Artifact{}}
	c := s.call(req)
	op := fmt.Sprintf("reading log entry %d", in.LogIndex)
	cp, _, _, err := verifiedCheckpoint(ctx, c)
	if err != nil {
		return nil, out, toolError(op, err)
	}
	if in.LogIndex >= cp.Size {
		return nil, out, fmt.Errorf("%s: the log holds %d entries (0 to %d): give the logIndex of the refusal", op, cp.Size, int64(cp.Size)-1)
	}
	root := *c.Base()
	root.Path = root.Path + "/log/"
	f, err := client.NewHTTPFetcher(&root, c.HTTP())
	if err != nil {
		return nil, out, err
	}
	bundle, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, in.LogIndex/256, cp.Size)
	if err != nil || int(in.LogIndex%256) >= len(bundle.Entries) {
		return nil, out, fmt.Errorf("%s: %v", op, err)
	}
	raw := bundle.Entries[in.LogIndex%256]
	pb, err := client.NewProofBuilder(ctx, cp.Size, f.ReadTile)
	if err != nil {
		return nil, out, err
	}
	hashes, err := pb.InclusionProof(ctx, in.LogIndex)
	if err != nil {
		return nil, out, fmt.Errorf("%s: building its inclusion proof: %w", op, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, in.LogIndex, cp.Size, rfc6962.DefaultHasher.HashLeaf(raw), hashes, cp.Hash); err != nil {
		return nil, out, fmt.Errorf("%s: the entry served is not the one the signed checkpoint commits to: %w; do not trust this server's log", op, err)
	}
	e, err := entry.Parse(raw)
	if err != nil {
		return nil, out, fmt.Errorf("%s: %w", op, err)
	}
	if e.Kind != entry.KindReleaseRejected {
		return nil, out, fmt.Errorf("log entry %d is a %s entry of release %q, not a rejection: explain_rejection takes the logIndex a refused upload answered", in.LogIndex, e.Kind, e.Release)
	}
	out.ReleaseID, out.Source, out.Uploader, out.Time, out.Check, out.Included = e.Release, e.Source, e.Uploader, e.Time, e.Check, true
	for _, a := range e.Artifacts {
		out.Artifacts = append(out.Artifacts, Artifact{Name: a.Name, Digest: "sha256:" + a.SHA256})
	}
	out.Explanation = explain(e.Check)
	return nil, out, nil
}

// explanations say what each admission check means and how to pass it.
var explanations = map[string]string{
	"digest":          "an artifact's bytes do not have the digest its signature or the manifest records: it was changed after signing, or the wrong file was uploaded; rebuild and sign again, upload the files the manifest names",
	"signature":       "no signer the server's trust policy trusts signed the artifact (key, keyless identity or OpenPGP key): sign with a key the policy lists, or ask the site to add yours",
	"bundle":          "a signature bundle could not be read or parsed: upload the bundle slipway sign wrote, unchanged",
	"tlog":            "a signature's transparency log entry does not verify: sign again",
	"timestamp":       "a signed timestamp does not verify: sign again",
	"provenance":      "the SLSA provenance is missing or unreadable: run slipway attest and upload its bundle",
	"builder":         "the provenance names a builder the policy does not allow: build with an allowed builder (the reusable release workflow)",
	"source":          "the provenance names a source repository the policy does not allow: release from an allowed repository",
	"predicate":       "an attestation's predicate type is not allowed, or a required one is missing: attest what the policy requires",
	"sbom":            "no SBOM attestation binds to the artifact: run slipway sbom and attest it",
	"age":             "a signature or the provenance is older than the policy's maxAge: build and sign again",
	"manifest":        "the manifest names an artifact differently than its verified provenance: upload the manifest the build wrote",
	"tests":           "the newest verified test result is not acceptable to the policy's tests section: fix the failing tests and release again",
	"vulnerabilities": "the vulnerability scan found something over the policy's maxSeverity (or the scan is too old): fix or upgrade the component, or add a justified ignore with an expiry to the policy",
	"uploader":        "the uploading identity may not publish this source repository under the policy's uploader rules: upload with a token or workflow the rules name",
	"upload":          "an image record in a manifest cannot be uploaded: admit the image by reference instead",
	"reference":       "the registry does not have the image, refuses the server's credentials, or serves it in a form admission does not copy",
	"inputs":          "the outputs of a dispatched job name an input release that was not admitted here as named",
}

func explain(check string) string {
	if e, ok := explanations[check]; ok {
		return "check " + strconv.Quote(check) + " failed: " + e + ". The full report line was in the upload's answer; verify_release on a corrected release shows every check."
	}
	return "check " + strconv.Quote(check) + " failed; run slipway verify --manifest with the site's policy on the release to see the report line"
}
