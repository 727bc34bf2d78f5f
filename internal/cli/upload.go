package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/upload"
)

// uploadCommand is the mcp-upload stage: options → upload.Upload →
// outputs and summary. Its action is actions/mcp-upload.
type uploadCommand struct {
	net                     netFlags
	server, token, audience string
	manifest, receipt       string
	subject, reference      string
	bundles                 []string
}

func (c *uploadCommand) Name() string       { return "upload" }
func (c *uploadCommand) ActionName() string { return "mcp-upload" }
func (c *uploadCommand) Short() string {
	return "Upload a release (every file a build manifest records, or one file and its bundles, or an image in a registry by reference) to Slipway's control plane, which verifies it under its trust policy and logs it, and record the receipt it returns."
}

func (c *uploadCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *uploadCommand) stageInputs() []input.Input {
	return []input.Input{
		input.String(&c.server, input.Spec{Name: "server", Env: "SLIPWAY_SERVER", Required: true,
			Description: "The control plane's base URL (https://slipway.example.org; plain http only to a loopback address)."}),
		input.String(&c.token, input.Spec{Name: "token", Env: "SLIPWAY_TOKEN", Secret: true,
			Description: "A service token with scope upload (slipway token create). Without one, inside a job with permissions: id-token: write, a GitHub Actions OIDC ID token for audience is sent instead."}),
		input.String(&c.audience, input.Spec{Name: "audience",
			Description: "The audience of the OIDC ID token, as the server is configured to require; empty for the server input."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "The build's artifact manifest (manifest.json in the build stage's output directory): every file it records is uploaded, and a receipt record per admitted artifact is added to it. Exactly one of manifest, subject and reference."}),
		input.String(&c.subject, input.Spec{Name: "subject",
			Description: "A single file to upload without a manifest (a path inside the workspace, the name its provenance gives it), with bundles; the release is the file and its bundles."}),
		input.List(&c.bundles, input.Spec{Name: "bundles",
			Description: "With subject: its signature bundle, SLSA provenance, SBOMs and SBOM attestations (Sigstore bundles, OpenPGP signatures, CycloneDX or SPDX JSON), each recorded as what its content says it is."}),
		input.String(&c.reference, input.Spec{Name: "reference",
			Description: "An image in a registry, pinned by digest (registry/repo@sha256:HEX, push's pinned-ref), for the server to admit by reference: it copies the image with its signatures and attestations from the registry and verifies them."}),
		input.String(&c.receipt, input.Spec{Name: "receipt",
			Description: "Where to write the release's receipt (a C2SP tlog-proof), inside the workspace; empty for RELEASE-ID.receipt beside the manifest (the subject; in the workspace for a reference)."}),
	}
}

func (c *uploadCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "release-id", Description: "The release's ID on the control plane (r- and 16 hex digits of the manifest's digest)."},
		{Name: "log-index", Description: "The index of the log entry that admitted the release."},
		{Name: "receipt", Description: "Path of the release's receipt, which slipway verify checks offline against the log's key."},
	}
}

// Check checks what needs no network: the paths, the server's URL and
// that there are credentials (a token, or a job that may request ID
// tokens); the pipeline runs it before the build.
func (c *uploadCommand) Check(_ context.Context, rt *Runtime) error {
	if err := rt.checkInside("manifest", c.manifest, "subject", c.subject, "receipt", c.receipt); err != nil {
		return err
	}
	if _, err := upload.ServerURL(c.server); err != nil {
		return exitcode.BadInput(err)
	}
	if c.token == "" && !(oidc.GitHub{Getenv: rt.Getenv}).Available() {
		return errNoUploadCredentials
	}
	return nil
}

// standaloneInputs are upload's other ways in: the pipeline uploads its
// manifest, and its subject and bundles inputs mean something else.
func (c *uploadCommand) standaloneInputs() []string {
	return []string{"subject", "bundles", "reference"}
}

var errNoUploadCredentials = exitcode.BadInputf("no credentials for the control plane: set SLIPWAY_TOKEN (the token input) to a token with scope upload, or run in a GitHub Actions job with \"permissions: id-token: write\" to send an OIDC ID token")

func (c *uploadCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := c.Check(ctx, rt); err != nil {
		return err
	}
	tokens, how, err := c.tokenSource(rt)
	if err != nil {
		return err
	}
	opts := upload.Options{
		Server: c.server, Manifest: c.manifest, Subject: c.subject, Bundles: c.bundles, Reference: c.reference, Receipt: c.receipt, Dir: rt.Dir,
		Token: tokens, HTTP: rt.Net.Client("control plane"), Log: rt.Log,
	}
	var res *upload.Result
	what := c.what()
	err = rt.Group("slipway upload: "+what+" to "+c.server+" ("+how+")", func() error {
		res, err = upload.Upload(ctx, opts)
		return err
	})
	if err != nil {
		if c.reference != "" {
			return err
		}
		return exitcode.WithFile(err, what)
	}
	receipt := res.ReceiptPath
	if rel, err := filepath.Rel(rt.Dir, receipt); err == nil && filepath.IsLocal(rel) {
		receipt = filepath.ToSlash(rel)
	}
	for _, o := range [][2]string{{"release-id", res.ID}, {"log-index", strconv.FormatUint(res.LogIndex, 10)}, {"receipt", receipt}} {
		if err := rt.Output(o[0], o[1]); err != nil {
			return err
		}
	}
	return rt.Report.Summary(uploadSummary(res, receipt, c.manifest))
}

// what names what is uploaded: the manifest, the subject or the image.
func (c *uploadCommand) what() string {
	switch {
	case c.reference != "":
		return c.reference
	case c.subject != "":
		return c.subject
	}
	return c.manifest
}

// tokenSource decides how to authenticate: see controlPlaneTokens.
func (c *uploadCommand) tokenSource(rt *Runtime) (func(context.Context) (string, error), string, error) {
	return controlPlaneTokens(rt, c.token, c.audience, c.server, errNoUploadCredentials)
}

// controlPlaneTokens decides how a stage authenticates to the control
// plane: the token input when set; otherwise, when the job may request ID
// tokens, a fresh GitHub Actions OIDC ID token for audience (empty: the
// server's URL) on every request (the server accepts each once where it
// consumes them); noCreds when neither. It says which, for the log.
func controlPlaneTokens(rt *Runtime, token, audience, server string, noCreds error) (func(context.Context) (string, error), string, error) {
	if token != "" {
		rt.Report.Mask(token)
		return func(context.Context) (string, error) { return token, nil }, "service token", nil
	}
	gh := oidc.GitHub{Getenv: rt.Getenv, HTTP: rt.HTTP}
	if !gh.Available() {
		return nil, "", noCreds
	}
	// The runtime's request token mints ID tokens for any audience while
	// the job runs: GitHub's runner masks it, a runner such as act does not.
	rt.Report.Mask(rt.Getenv(oidc.EnvRequestToken))
	if audience == "" {
		audience = server
	}
	src := gh.Source(audience)
	return func(ctx context.Context) (string, error) {
		tok, err := src(ctx)
		if err != nil {
			return "", exitcode.Infra(err)
		}
		rt.Report.Mask(tok)
		return tok, nil
	}, fmt.Sprintf("GitHub Actions OIDC, audience %q", audience), nil
}

func uploadSummary(res *upload.Result, receipt, manifest string) action.Summary {
	var rows []action.Row
	for _, b := range res.Blobs {
		role := "uploaded"
		switch {
		case b.Transfer == upload.Present:
			role = "already on the server"
		case b.Resumed > 0:
			role = fmt.Sprintf("uploaded, resumed %d times", b.Resumed)
		}
		rows = append(rows, action.Row{Name: b.Name, Role: role, Digest: b.Digest.String(), Size: b.Size})
	}
	for _, r := range res.Records {
		rows = append(rows, action.Row{Name: r.Name, Role: "receipt", Digest: r.Digest.String(), Size: r.Size})
	}
	decision := fmt.Sprintf("Admitted: release %s, log entry %d.", res.ID, res.LogIndex)
	if !res.Created {
		decision = fmt.Sprintf("Already admitted: release %s, log entry %d (the same manifest was uploaded before; no new entry).", res.ID, res.LogIndex)
	}
	notes := []string{decision}
	if manifest != "" {
		notes = append(notes, fmt.Sprintf("Receipt: %s, recorded in %s; slipway verify --manifest %s --policy FILE checks it offline against the log's key (GET /api/v1/log/key).", receipt, manifest, manifest))
	} else {
		notes = append(notes, fmt.Sprintf("Receipt: %s; it verifies offline against the log's key (GET /api/v1/log/key).", receipt))
	}
	for _, c := range res.Checks {
		var s string
		if json.Unmarshal(c, &s) != nil {
			s = string(c)
		}
		notes = append(notes, "Check: "+s)
	}
	return action.Summary{Title: "Upload of release " + res.ID, Rows: rows, Notes: notes}
}
