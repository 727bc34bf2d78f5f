// Package runas lets slipway, started as root in a Docker action's container, do its work as the owner of the
// job's workspace.
//
// GitHub runs Docker actions as the image's default user, root, and says not to set USER in an action's
// Dockerfile, or the action cannot reach GITHUB_WORKSPACE ("Dockerfile support for GitHub Actions", USER:
// https://docs.github.com/en/actions/reference/workflows-and-actions/dockerfile-support#user). But what root
// writes into the workspace (manifests, SBOMs, bundles, the build command's results) then belongs to root, and a
// self-hosted runner running as another user cannot change or remove it in its later run: steps or the next
// job's checkout. So the action image starts slipway with --as-workspace-owner: as root, inside a GitHub Actions
// job, it switches to the user and group that own the workspace (the runner's user, who also owns the
// file-command files and HOME) before any stage runs, as a run: step would be. Everything is then written, and
// the build command runs, as that user; nothing needs a chown afterwards.
//
// It must never gain privileges, never switch when the process is not root or not in a GitHub Actions job,
// never switch to root's group or supplementary groups after leaving root, and never switch to the overflow
// user (65534) that a user namespace shows for unmapped owners.
package runas
