package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/ghpublish"
	"github.com/slipway/actions/internal/input"
)

// publishCommand attaches a release's files to a GitHub Release: inputs →
// ghpublish.Publish → outputs and summary. It is not our own image's
// release (.github/workflows/publish.yml, docs/releasing.md): it publishes
// a user's build.
type publishCommand struct {
	net                       netFlags
	tag, commit, name, notes  string
	manifest                  string
	files                     []string
	replace                   bool
	repository, apiURL, token string
}

func (c *publishCommand) Name() string { return "publish" }
func (c *publishCommand) Short() string {
	return "Attach a release's files to the GitHub Release of a tag: every file its build manifest records (artifacts, SBOMs, signatures, provenance, attestations, receipts) and the manifest, idempotent per tag (the release is created or reused; an asset with the same name and content is kept, other content is an error unless replace)."
}

func (c *publishCommand) Inputs() []input.Input {
	ins := []input.Input{
		input.String(&c.tag, input.Spec{Name: "tag", Required: true,
			Description: "The release's tag (v1.2.3; in a workflow run on a tag push, github.ref_name)."}),
		input.String(&c.manifest, input.Spec{Name: "manifest", Required: true,
			Description: "The build manifest after the stages (mcp-upload's, with its receipts): every file it records is attached, each checked against its recorded digest as it is uploaded, and the manifest too; images (OCI layouts) and registry records are not files and are left out."}),
		input.List(&c.files, input.Spec{Name: "files",
			Description: "More files of the workspace to attach (a verification report, an outputs manifest); an asset is named by its file's base name, so two files with one base name are refused."}),
		input.String(&c.commit, input.Spec{Name: "commit", Env: "GITHUB_SHA",
			Description: "The commit a tag that does not exist yet is created at (in a workflow the run's commit); without it and without a release for the tag, nothing is published."}),
		input.String(&c.name, input.Spec{Name: "release-name", Description: "The title of a release created here (default: the tag); an existing release keeps its own."}),
		input.String(&c.notes, input.Spec{Name: "release-notes", Description: "The body of a release created here."}),
		input.Bool(&c.replace, input.Spec{Name: "replace", Default: "false",
			Description: "Replace an asset of the same name and other content (by default that is an error: a tag's files do not change)."}),
	}
	ins = append(ins, githubInputs(&c.repository, &c.apiURL, &c.token, "permissions: contents: write")...)
	return append(ins, c.net.inputs()...)
}

func (c *publishCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "release-url", Description: "The GitHub Release's page."},
		{Name: "release-id", Description: "The GitHub Release's ID."},
		{Name: "uploaded", Description: "How many assets were uploaded (replaced ones included)."},
		{Name: "kept", Description: "How many were already there with the same content."},
	}
}

func (c *publishCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("manifest", c.manifest); err != nil {
		return err
	}
	for _, f := range c.files {
		if err := rt.checkInside("files", f); err != nil {
			return err
		}
	}
	if _, _, err := ghclient.SplitRepository(c.repository); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"repository\": %w", err))
	}
	client, err := ghclient.New(ghclient.Options{APIURL: c.apiURL, Token: c.token, HTTP: rt.Net.Client("GitHub"), Retry: ghclient.Retry{Log: rt.Log}})
	if err != nil {
		return exitcode.BadInput(err)
	}
	var res *ghpublish.Result
	err = rt.Group("slipway publish: "+c.manifest+" to the release "+c.tag+" of "+c.repository, func() error {
		res, err = ghpublish.Publish(ctx, ghpublish.Options{Client: client, Repository: c.repository, Tag: c.tag, Commit: c.commit,
			Name: c.name, Notes: c.notes, Dir: rt.Dir, Manifest: c.manifest, Files: c.files, Replace: c.replace,
			HTTP: rt.Net.Client("GitHub downloads"), Log: rt.Log})
		return err
	})
	if err != nil {
		return publishError(err)
	}
	uploaded, kept := 0, 0
	sum := action.Summary{Title: "GitHub Release " + c.tag}
	for _, a := range res.Assets {
		if a.Action == ghpublish.Kept {
			kept++
		} else {
			uploaded++
		}
		sum.Rows = append(sum.Rows, action.Row{Name: a.Name, Role: string(a.Role) + " (" + string(a.Action) + ")", Digest: a.Digest.String(), Size: -1})
	}
	sum.Notes = append(sum.Notes, fmt.Sprintf("Release: %s (%d uploaded, %d already there with the same content).", res.URL, uploaded, kept))
	for _, kv := range [][2]string{{"release-url", res.URL}, {"release-id", strconv.FormatInt(res.ReleaseID, 10)},
		{"uploaded", strconv.Itoa(uploaded)}, {"kept", strconv.Itoa(kept)}} {
		if err := rt.Output(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return rt.Report.Summary(sum)
}

// publishError: GitHub's answers as githubError says; what publish refuses
// itself (a file other than its record, an asset with other content, two
// files with one name) is bad input (2).
func publishError(err error) error {
	if ghclient.IsRefused(err) || isGitHubInfra(err) {
		return githubError(err)
	}
	return exitcode.BadInput(err)
}
