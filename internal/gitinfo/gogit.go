package gitinfo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// GoGit reads Info with go-git, for hosts without a git program. Unlike the
// git CLI it does not read global excludes files (core.excludesFile), so a
// file ignored only there counts as untracked.
type GoGit struct{}

// Read implements Reader.
func (GoGit) Read(_ context.Context, dir string, ignore ...string) (Info, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return Info{}, fmt.Errorf("%q: %w", dir, ErrNotRepository)
	} else if err != nil {
		return Info{}, fmt.Errorf("opening the git repository at %q: %w", dir, err)
	}
	head, err := repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return Info{}, fmt.Errorf("%q: %w", dir, ErrNotRepository)
	} else if err != nil {
		return Info{}, fmt.Errorf("reading HEAD in %q: %w", dir, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return Info{}, fmt.Errorf("reading commit %s in %q: %w", head.Hash(), dir, err)
	}
	info := Info{Commit: head.Hash().String(), CommitTime: commit.Committer.When.UTC()}
	if head.Name().IsBranch() {
		info.Ref = head.Name().String()
	}
	wt, err := repo.Worktree()
	if err != nil {
		return Info{}, fmt.Errorf("opening the work tree of %q: %w", dir, err)
	}
	status, err := wt.Status()
	if err != nil {
		return Info{}, fmt.Errorf("reading the status of %q: %w", dir, err)
	}
	skip, err := ignoredPrefixes(wt.Filesystem.Root(), dir, ignore)
	if err != nil {
		return Info{}, err
	}
	for file, st := range status {
		if (st.Worktree != git.Unmodified || st.Staging != git.Unmodified) && !underAny(file, skip) {
			info.Dirty = true
			break
		}
	}
	if remote, err := repo.Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
		info.Remote = cleanRemote(remote.Config().URLs[0])
	}
	return info, nil
}

// ignoredPrefixes turns paths relative to dir into paths relative to the
// work tree's root, as go-git's status names files.
func ignoredPrefixes(top, dir string, ignore []string) ([]string, error) {
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, fmt.Errorf("resolving the work tree %q: %w", top, err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", dir, err)
	}
	rel, err := filepath.Rel(realTop, realDir)
	if err != nil {
		return nil, fmt.Errorf("locating %q in the work tree %q: %w", dir, top, err)
	}
	var out []string
	for _, p := range ignore {
		out = append(out, path.Join(filepath.ToSlash(rel), p))
	}
	return out, nil
}

func underAny(file string, prefixes []string) bool {
	for _, p := range prefixes {
		if file == p || strings.HasPrefix(file, p+"/") {
			return true
		}
	}
	return false
}
