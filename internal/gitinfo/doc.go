// Package gitinfo reads what provenance needs from the git work tree being
// built: the HEAD commit, its committer time (SOURCE_DATE_EPOCH), whether the
// tree has changes not in that commit, the checked-out ref and the origin.
//
// It uses the git CLI when one is on PATH (exactly what the user's git
// sees), and go-git otherwise (the action's image has no git). It must never
// change the repository (no index refresh, no locks) and never put
// credentials from a remote URL into its result.
package gitinfo
