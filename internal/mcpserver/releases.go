package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/cpclient"
)

// Artifact is one file a release binds.
type Artifact struct {
	Name   string `json:"name"`
	Digest string `json:"digest" jsonschema:"sha256:<hex>"`
	Size   int64  `json:"size"`
}

// Release is an admitted release, as GET /api/v1/releases/{id} answers.
type Release struct {
	ReleaseID        string     `json:"releaseId" jsonschema:"r- and 16 hex digits"`
	SourceRepository string     `json:"sourceRepository,omitempty" jsonschema:"the repository its provenance names"`
	Uploader         string     `json:"uploader" jsonschema:"the verified identity that sent it"`
	ManifestDigest   string     `json:"manifestDigest"`
	Created          time.Time  `json:"created" jsonschema:"when it was admitted"`
	LogIndex         uint64     `json:"logIndex" jsonschema:"index of its release-admitted entry in the transparency log"`
	Artifacts        []Artifact `json:"artifacts"`
	Checks           []string   `json:"checks,omitempty" jsonschema:"the verify report lines admission passed"`
}

// ListReleasesIn selects releases; every field is optional.
type ListReleasesIn struct {
	Repository string `json:"repository,omitempty" jsonschema:"a source repository: github.com/owner/repo"`
	Digest     string `json:"digest,omitempty" jsonschema:"sha256:<hex> of an artifact, a bundle, an SBOM or the manifest"`
	Since      string `json:"since,omitempty" jsonschema:"RFC 3339 time, inclusive"`
	Until      string `json:"until,omitempty" jsonschema:"RFC 3339 time, exclusive"`
	Limit      int    `json:"limit,omitempty" jsonschema:"page size, 1 to 100 (default 20)"`
	PageToken  string `json:"pageToken,omitempty" jsonschema:"nextPageToken of the previous page"`
}

// ListReleasesOut is a page of releases, newest first.
type ListReleasesOut struct {
	Releases      []Release `json:"releases"`
	NextPageToken string    `json:"nextPageToken,omitempty" jsonschema:"give it as pageToken for the next page; absent on the last"`
}

// ReleaseIn names a release.
type ReleaseIn struct {
	ReleaseID string `json:"releaseId" jsonschema:"r- and 16 hex digits"`
}

func (s *Server) addReadTools(srv *mcp.Server) {
	ro := &mcp.ToolAnnotations{ReadOnlyHint: true}
	addTool(srv, &mcp.Tool{Name: "list_releases", Annotations: ro,
		Description: "Admitted releases, newest first, searched by source repository, any file's digest and admission time, a page at a time (keyset pagination)."},
		s.listReleases)
	addTool(srv, &mcp.Tool{Name: "get_release", Annotations: ro,
		Description: "One admitted release: its source repository, uploader, artifacts with digests, log index and the checks admission passed."},
		s.getRelease)
	addTool(srv, &mcp.Tool{Name: "verify_release", Annotations: ro,
		Description: "Downloads the release and runs the verifier on it again under the trust policy (signatures, provenance, SBOMs, receipts): the check list with pass/fail and why."},
		s.verifyRelease)
	addTool(srv, &mcp.Tool{Name: "explain_rejection", Annotations: ro,
		Description: "Why the control plane refused a release: its release-rejected log entry (read from the log and proved included), the failed check and what fixes it."},
		s.explainRejection)
	addTool(srv, &mcp.Tool{Name: "get_log_checkpoint", Annotations: ro,
		Description: "The transparency log's latest signed checkpoint, its signature checked against the log's key: origin, tree size, root hash."},
		s.getCheckpoint)
	addTool(srv, &mcp.Tool{Name: "prove_inclusion", Annotations: ro,
		Description: "Proves a release's admission is in the log: verifies its receipt (inclusion proof and signed checkpoint) and that the latest checkpoint is consistent with it."},
		s.proveInclusion)
	addTool(srv, &mcp.Tool{Name: "list_jobs", Annotations: ro,
		Description: "Slurm jobs of admitted releases (dispatches), newest first, optionally of one release, a page at a time."},
		s.listJobs)
	addTool(srv, &mcp.Tool{Name: "get_job", Annotations: ro,
		Description: "One dispatched job: its state, exit code, elapsed time, and the tail of its output when the server submitted it."},
		s.getJob)
	addTool(srv, &mcp.Tool{Name: "get_dispatch_request", Annotations: ro,
		Description: "A dispatch request made with dispatch_release: pending, approved (with its job), denied or failed, and who decided."},
		s.getDispatchRequest)
}

func (s *Server) listReleases(ctx context.Context, req *mcp.CallToolRequest, in ListReleasesIn) (*mcp.CallToolResult, ListReleasesOut, error) {
	q := url.Values{}
	for k, v := range map[string]string{"repository": in.Repository, "digest": in.Digest, "since": in.Since, "until": in.Until, "page_token": in.PageToken} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if in.Limit != 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	var page struct {
		Releases []Release `json:"releases"`
		Next     string    `json:"next"`
	}
	if err := s.call(req).JSON(ctx, "listing releases", "GET", "/api/v1/releases", q, nil, &page); err != nil {
		return nil, ListReleasesOut{}, toolError("listing releases", err)
	}
	out := ListReleasesOut{Releases: page.Releases, NextPageToken: cpclient.PageToken(page.Next)}
	if out.Releases == nil {
		out.Releases = []Release{}
	}
	return nil, out, nil
}

func (s *Server) getRelease(ctx context.Context, req *mcp.CallToolRequest, in ReleaseIn) (*mcp.CallToolResult, Release, error) {
	rel, err := s.release(ctx, s.call(req), in.ReleaseID)
	return nil, rel, err
}

// release reads release id.
func (s *Server) release(ctx context.Context, c *cpclient.Client, id string) (Release, error) {
	var rel Release
	if err := checkID("releaseId", id, "r-"); err != nil {
		return rel, err
	}
	op := fmt.Sprintf("reading release %q", id)
	if err := c.JSON(ctx, op, "GET", "/api/v1/releases/"+id, nil, nil, &rel); err != nil {
		return rel, toolError(op, err)
	}
	return rel, nil
}

// checkID checks that id is prefix and 16 lowercase hex digits, so that
// it can go into a path as it is.
func checkID(field, id, prefix string) error {
	ok := len(id) == len(prefix)+16 && id[:len(prefix)] == prefix
	for i := len(prefix); ok && i < len(id); i++ {
		c := id[i]
		ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
	}
	if !ok {
		return fmt.Errorf("%s %q is not an id: give %s and 16 lowercase hex digits", field, id, prefix)
	}
	return nil
}
