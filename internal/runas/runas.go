package runas

import (
	"fmt"
	"os"
	"syscall"
)

// Overflow is the uid and gid a user namespace shows for owners it does not map (nobody:nogroup).
const Overflow = 65534

// System is what ToWorkspaceOwner reads and changes; OS gives the real one.
type System struct {
	Getenv func(string) string
	Getuid func() int
	// Owner returns the uid and gid that own path.
	Owner func(path string) (uid, gid int, err error)
	// Switch drops every group but gid and becomes uid:gid, for every thread of the process.
	Switch func(uid, gid int) error
}

// OS is the process's own System.
func OS(getenv func(string) string) System {
	return System{Getenv: getenv, Getuid: os.Getuid, Owner: owner, Switch: switchTo}
}

// Result says what ToWorkspaceOwner did.
type Result struct {
	// Switched is true when the process now runs as UID:GID, the owner of Workspace.
	Switched  bool
	UID, GID  int
	Workspace string
	// Why says why nothing was done, for the log ("" when switched).
	Why string
}

// ToWorkspaceOwner switches a root process in a GitHub Actions job to the owner of GITHUB_WORKSPACE. It does
// nothing, and says why, when the process is not root, not in a job, or the workspace belongs to root or to the
// overflow user. An error means the owner could not be found or the switch failed: the process is then still
// root.
func ToWorkspaceOwner(s System) (Result, error) {
	ws := s.Getenv("GITHUB_WORKSPACE")
	r := Result{Workspace: ws}
	switch {
	case s.Getenv("GITHUB_ACTIONS") != "true":
		r.Why = "not in a GitHub Actions job"
		return r, nil
	case s.Getuid() != 0:
		r.Why = "not running as root"
		return r, nil
	case ws == "":
		r.Why = "GITHUB_WORKSPACE is not set"
		return r, nil
	}
	uid, gid, err := s.Owner(ws)
	if err != nil {
		return r, fmt.Errorf("finding the owner of the workspace %q: %w", ws, err)
	}
	r.UID, r.GID = uid, gid
	switch {
	case uid == 0:
		r.Why = "the workspace belongs to root"
		return r, nil
	case uid == Overflow || gid == Overflow:
		r.Why = fmt.Sprintf("the workspace belongs to %d:%d, the overflow user of a user namespace: its real owner is not mapped into this container", uid, gid)
		return r, nil
	}
	if err := s.Switch(uid, gid); err != nil {
		return r, fmt.Errorf("switching to %d:%d, the owner of the workspace %q: %w", uid, gid, ws, err)
	}
	r.Switched = true
	return r, nil
}

func owner(path string) (int, int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("no owner information for %q on this system", path)
	}
	return int(st.Uid), int(st.Gid), nil
}
