package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

func checkWorkDir(ctx context.Context, s *state) {
	if s.o.WorkDir == "" {
		return
	}
	dir, err := filepath.Abs(s.o.WorkDir)
	if err != nil {
		s.r.problem("workdir", fmt.Sprintf("the working directory %q: %v", s.o.WorkDir, err), "give an absolute path on the shared filesystem")
		return
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.r.problem("workdir", fmt.Sprintf("the working directory %q does not exist", dir),
			fmt.Sprintf("create it on the shared filesystem (mkdir -p %s; chown %s %s), mounted at the same path on every compute node", dir, s.user, dir))
		return
	case err != nil:
		s.r.problem("workdir", fmt.Sprintf("the working directory %q: %v", dir, err), "check the path and the mount")
		return
	case !st.IsDir():
		s.r.problem("workdir", fmt.Sprintf("the working directory %q is not a directory", dir), "name a directory on the shared filesystem")
		return
	}
	marker := ".slipway-doctor-" + randomHex()
	path := filepath.Join(dir, marker)
	if err := os.WriteFile(path, []byte("slipway runner doctor\n"), 0o644); err != nil {
		s.r.problem("workdir", fmt.Sprintf("the working directory %q is not writable by %s (%v)", dir, s.user, err),
			fmt.Sprintf("chown %s %s, or give a directory this user may write", s.user, dir))
		return
	}
	defer os.Remove(path)
	defer os.Remove(path + ".seen")
	checkSpace(s, "workdir", dir)
	if !s.canSubmit() {
		return // the Slurm checks above said why no job can run
	}
	checkNodeSees(ctx, s, dir, marker)
}

func checkTempSpace(_ context.Context, s *state) {
	checkSpace(s, "tmp", os.TempDir())
}

func checkSpace(s *state, check, dir string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		s.r.problem(check, fmt.Sprintf("the free space under %s is unknown (%v)", dir, err), "check the mount")
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < s.o.MinFree {
		s.r.problem(check, fmt.Sprintf("only %s free under %s, less than %s", size(free), dir, size(s.o.MinFree)),
			"free space there (staged releases and job outputs go there) or use another filesystem")
		return
	}
	s.r.ok(check, "%s free under %s", size(free), dir)
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", n>>20)
	}
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
