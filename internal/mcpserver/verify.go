package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/verify"
)

// Check is one line of a verify report.
type Check struct {
	Check   string `json:"check" jsonschema:"what was checked: digest, signature, provenance, builder, source, sbom, receipt, …"`
	Status  string `json:"status" jsonschema:"pass, fail, or error (could not be checked)"`
	Subject string `json:"subject"`
	Bundle  string `json:"bundle,omitempty" jsonschema:"the bundle or signature file the check is about"`
	Signer  string `json:"signer,omitempty"`
	Message string `json:"message" jsonschema:"what was found and, on failure, why it is not enough"`
}

// VerifyOut is the verifier's report on a release.
type VerifyOut struct {
	ReleaseID string  `json:"releaseId"`
	Verified  bool    `json:"verified" jsonschema:"every artifact passed every check"`
	Policy    string  `json:"policy" jsonschema:"the trust policy verified against"`
	Checks    []Check `json:"checks"`
}

// verifyRelease exports the release from the control plane into a
// private temporary directory (digests checked while downloading), runs
// the verifier on its manifest as slipway verify --manifest does, and
// removes the directory.
func (s *Server) verifyRelease(ctx context.Context, req *mcp.CallToolRequest, in ReleaseIn) (*mcp.CallToolResult, VerifyOut, error) {
	out := VerifyOut{ReleaseID: in.ReleaseID, Checks: []Check{}}
	if err := checkID("releaseId", in.ReleaseID, "r-"); err != nil {
		return nil, out, err
	}
	if s.o.Policy == nil {
		return nil, out, errors.New("verify_release needs a trust policy: start slipway mcp with --policy FILE (slipway serve's /mcp uses the server's own)")
	}
	tmp, err := os.MkdirTemp("", "slipway-mcp-verify-")
	if err != nil {
		return nil, out, fmt.Errorf("verifying release %q: %w", in.ReleaseID, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "release")
	c := s.call(req)
	src := &export.HTTPSource{Base: c.Base(), Token: s.callToken(req.Extra), HTTP: c.HTTP()}
	if _, err := export.Export(ctx, export.Options{Source: src, Release: in.ReleaseID, Output: dir}); err != nil {
		return nil, out, toolError(fmt.Sprintf("downloading release %q to verify it", in.ReleaseID), err)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, export.ManifestFile))
	if err != nil {
		return nil, out, err
	}
	r, err := verify.New(s.o.Policy, verify.WithLogger(s.o.Log)).VerifyManifest(ctx, m, dir)
	if err != nil {
		return nil, out, fmt.Errorf("verifying release %q: %w", in.ReleaseID, err)
	}
	out.Verified, out.Policy = r.Verified, r.Policy
	for _, sr := range r.Subjects {
		for _, ch := range sr.Checks {
			bundle := ch.Bundle
			if rel, err := filepath.Rel(dir, bundle); err == nil && bundle != "" {
				bundle = rel
			}
			out.Checks = append(out.Checks, Check{Check: ch.Check, Status: string(ch.Status), Subject: ch.Subject, Bundle: bundle, Signer: ch.Signer, Message: ch.Message})
		}
	}
	return nil, out, nil
}
