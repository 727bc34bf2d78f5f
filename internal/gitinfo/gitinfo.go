package gitinfo

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/slipway/actions/internal/execenv"
)

// Info describes the source tree at build time.
type Info struct {
	// Commit is the full hash of HEAD.
	Commit string
	// CommitTime is HEAD's committer time.
	CommitTime time.Time
	// Dirty is true when tracked files differ from HEAD or untracked,
	// unignored files exist, anywhere in the work tree but the ignored
	// paths.
	Dirty bool
	// Ref is the branch HEAD points at ("refs/heads/main"); empty when
	// HEAD is detached.
	Ref string
	// Remote is the URL of the "origin" remote without credentials; empty
	// when there is none.
	Remote string
}

// ErrNotRepository is returned for a directory that is not in a git work
// tree, or one whose HEAD has no commit yet.
var ErrNotRepository = errors.New("not a git work tree with a commit")

// Reader reads Info for the work tree containing a directory. Changes
// under the ignored paths (slash-separated, relative to dir: the build's own
// output directory) do not make the tree dirty.
type Reader interface {
	Read(ctx context.Context, dir string, ignore ...string) (Info, error)
}

// New returns the CLI reader when git is on the PATH of env (the
// environment git will run with), and the go-git reader otherwise.
func New(env []string) Reader {
	if p, err := execenv.LookPath("git", env); err == nil {
		return &CLI{Path: p, Env: env}
	}
	return GoGit{}
}

// cleanRemote strips user information (tokens) from a remote URL. scp-like
// URLs ("git@host:o/r") carry no secret and are kept.
func cleanRemote(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if strings.Contains(raw, "://") {
			return "" // unparseable URL: might hold a secret, leave it out
		}
		return raw
	}
	u.User = nil
	return u.String()
}
