package gitinfo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CLI reads Info by running the git program.
type CLI struct {
	// Path is the git executable.
	Path string
	// Env is the environment git runs with ("NAME=value"); Read adds
	// settings that keep git quiet and read-only.
	Env []string
}

// Read implements Reader.
func (c *CLI) Read(ctx context.Context, dir string, ignore ...string) (Info, error) {
	out, err := c.git(ctx, dir, "log", "-1", "--format=%H %ct")
	if err != nil {
		return Info{}, err
	}
	hash, ts, ok := strings.Cut(strings.TrimSpace(out), " ")
	secs, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil || len(hash) < 40 {
		return Info{}, fmt.Errorf("reading HEAD in %q: unexpected git output %q", dir, out)
	}
	info := Info{Commit: hash, CommitTime: time.Unix(secs, 0).UTC()}
	// The whole work tree (":/"), not only dir, minus the ignored paths
	// (pathspecs without ":/" are relative to dir).
	args := []string{"status", "--porcelain=v1", "--untracked-files=normal", "--", ":/"}
	for _, p := range ignore {
		args = append(args, ":(exclude,literal)"+p)
	}
	status, err := c.git(ctx, dir, args...)
	if err != nil {
		return Info{}, err
	}
	info.Dirty = strings.TrimSpace(status) != ""
	if ref, err := c.git(ctx, dir, "symbolic-ref", "-q", "HEAD"); err == nil {
		info.Ref = strings.TrimSpace(ref)
	}
	if remote, err := c.git(ctx, dir, "config", "--get", "remote.origin.url"); err == nil {
		info.Remote = cleanRemote(remote)
	}
	return info, nil
}

// git runs one read-only git command in dir.
func (c *CLI) git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.Path, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(append([]string{}, c.Env...),
		"LC_ALL=C",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_OPTIONAL_LOCKS=0", // status must not rewrite the index
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	msg := strings.TrimSpace(stderr.String())
	var exitErr *exec.ExitError
	switch {
	case !errors.As(err, &exitErr):
		return "", fmt.Errorf("running git %s in %q: %w", args[0], dir, err)
	case strings.Contains(msg, "not a git repository"),
		strings.Contains(msg, "does not have any commits"),
		strings.Contains(msg, "bad default revision 'HEAD'"),
		strings.Contains(msg, "unknown revision or path not in the working tree"):
		return "", fmt.Errorf("%q: %w", dir, ErrNotRepository)
	case strings.Contains(msg, "dubious ownership"):
		return "", fmt.Errorf("git refuses to read %q, owned by another user (%s); run: git config --global --add safe.directory %q", dir, firstLine(msg), dir)
	case len(args) > 0 && (args[0] == "symbolic-ref" || args[0] == "config"):
		return "", err // "no such ref/key": exit 1 with no message
	}
	return "", fmt.Errorf("git %s in %q failed: %s", strings.Join(args, " "), dir, firstLine(msg))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
