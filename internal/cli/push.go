package cli

import (
	"context"
	"fmt"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/regfile"
)

// pushCommand is the push stage: options → push.Push → outputs and summary.
type pushCommand struct {
	net            netFlags
	subject        []string
	ref, manifest  string
	allowOverwrite bool
	mountFrom      []string
	digestCache    string
	creds          push.Credentials
}

func (c *pushCommand) Name() string { return "push" }
func (c *pushCommand) Short() string {
	return "Push files (as one OCI artifact) or an OCI image layout to a registry under an immutable tag, pinned by digest."
}

func (c *pushCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *pushCommand) stageInputs() []input.Input {
	ins := []input.Input{
		input.List(&c.subject, input.Spec{Name: "subject",
			Description: "Files to push as one OCI artifact (paths or globs, relative to the workspace), or oci-layout:DIR (oci-layout:DIR@sha256:HEX or @NAME to pick one of several manifests); empty pushes the artifacts of manifest."}),
		input.String(&c.ref, input.Spec{Name: "ref", Required: true,
			Description: "Where to push: registry/repository:tag (loopback registries are reached over plain HTTP). The repository path is lowercased (OCI names are lower case, GitHub owner and repository names may have capitals); the tag keeps its case."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "The build's artifact manifest (manifest.json in the build stage's output directory): its files are pushed with their recorded digests, and a record of the push (the pinned reference as URI) is added to it."}),
		input.Bool(&c.allowOverwrite, input.Spec{Name: "allow-overwrite", Default: "false",
			Description: "Move the tag when it already points at other content; by default that fails, and pushing identical content again changes nothing."}),
		input.List(&c.mountFrom, input.Spec{Name: "mount-from",
			Description: "Repositories of the same registry (registry/repository) to mount blobs from instead of uploading them, tried before those that manifest records pushes to and those the digest cache remembers."}),
		input.String(&c.digestCache, input.Spec{Name: "digest-cache", Env: "SLIPWAY_DIGEST_CACHE",
			Description: "Directory that remembers the digests of files pushed without a manifest (keyed by inode, size and times, so that an unchanged file is not hashed again) and the repositories they were pushed to; empty for $XDG_CACHE_HOME/slipway/digests or ~/.cache/slipway/digests, off for none."}),
	}
	return append(ins, registryInputs(&c.creds)...)
}

func (c *pushCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "digest", Description: "Digest of the pushed manifest, as sha256:HEX."},
		{Name: "pinned-ref", Description: "The pushed content by digest: registry/repository@sha256:HEX."},
	}
}

func (c *pushCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("manifest", c.manifest); err != nil {
		return err
	}
	subject, err := push.ParseSubject(c.subject)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"subject\": %w", err))
	}
	cacheDir := c.digestCache
	if cacheDir == "" {
		cacheDir = digestcache.DefaultDir(rt.Getenv)
	}
	opts := push.Options{
		Ref: c.ref, Subject: subject, Manifest: c.manifest, AllowOverwrite: c.allowOverwrite,
		MountFrom: c.mountFrom, DigestCache: digestcache.New(cacheDir),
		Dir: rt.Dir, Log: rt.Log,
		Credentials: c.creds,
	}
	opts.Credentials.GitHubActor = rt.Getenv("GITHUB_ACTOR")
	opts.Transport = rt.registry()
	var res *push.Result
	err = rt.Group("slipway push: "+c.ref, func() error {
		res, err = push.Push(ctx, opts)
		return err
	})
	if err != nil {
		return err
	}
	if err := rt.Output("digest", res.Digest.String()); err != nil {
		return err
	}
	if err := rt.Output("pinned-ref", res.PinnedRef); err != nil {
		return err
	}
	return rt.Report.Summary(pushSummary(res, c.manifest))
}

func pushSummary(res *push.Result, manifest string) action.Summary {
	rows := []action.Row{{Name: res.Tag, Role: "oci manifest", Digest: res.Digest.String(), Size: res.Size}}
	for _, f := range res.Files {
		role := "layer " + f.MediaType
		switch {
		case f.Transfer == push.Mounted:
			role += ", mounted from " + f.MountedFrom
		case f.Transfer != "":
			role += ", " + string(f.Transfer)
		}
		rows = append(rows, action.Row{Name: f.Name, Role: role, Digest: f.Digest.String(), Size: f.Size})
	}
	var notes []string
	if res.Lowercased {
		notes = append(notes, fmt.Sprintf("The repository path was lowercased to %s: OCI repository names are lower case.", res.Tag))
	}
	switch res.Status {
	case push.Pushed:
		notes = append(notes, fmt.Sprintf("Pushed %s.", res.PinnedRef))
	case push.AlreadyPresent:
		notes = append(notes, fmt.Sprintf("Already present: %s pointed at this content; nothing changed.", res.Tag))
	case push.Replaced:
		notes = append(notes, fmt.Sprintf("Replaced: %s pointed at %s and now points at %s (allow-overwrite).", res.Tag, res.Previous, res.Digest))
	}
	notes = append(notes, "Pinned reference: "+res.PinnedRef)
	if n := len(res.Blobs); n > 0 {
		var sent int64
		count := map[push.Transfer]int{}
		for _, b := range res.Blobs {
			count[b.Transfer]++
			if b.Transfer == push.Uploaded {
				sent += b.Size
			}
		}
		notes = append(notes, fmt.Sprintf("Blobs: %d uploaded (%s), %d mounted from another repository, %d already present.",
			count[push.Uploaded], regfile.FormatSize(sent), count[push.Mounted], count[push.Present]))
	}
	if res.Record != nil {
		notes = append(notes, fmt.Sprintf("Recorded in %s.", manifest))
	}
	return action.Summary{Title: "Push to " + res.Tag, Rows: rows, Notes: notes}
}
