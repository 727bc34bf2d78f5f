package runas

import (
	"errors"
	"strings"
	"testing"
)

func TestToWorkspaceOwner(t *testing.T) {
	t.Parallel()
	inJob := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/github/workspace"}
	for _, tc := range []struct {
		name       string
		env        map[string]string
		uid        int
		owner      [2]int
		ownerErr   error
		switchErr  error
		want       Result
		wantSwitch bool
		err        string
	}{
		{name: "self-hosted runner user", env: inJob, owner: [2]int{1234, 2345}, wantSwitch: true,
			want: Result{Switched: true, UID: 1234, GID: 2345, Workspace: "/github/workspace"}},
		{name: "hosted runner user", env: inJob, owner: [2]int{1001, 118}, wantSwitch: true,
			want: Result{Switched: true, UID: 1001, GID: 118, Workspace: "/github/workspace"}},
		{name: "root runner", env: inJob, owner: [2]int{0, 0},
			want: Result{UID: 0, GID: 0, Workspace: "/github/workspace", Why: "the workspace belongs to root"}},
		{name: "not root", env: inJob, uid: 1001, owner: [2]int{1234, 1234},
			want: Result{Workspace: "/github/workspace", Why: "not running as root"}},
		{name: "not in a job", env: map[string]string{"GITHUB_WORKSPACE": "/w"}, owner: [2]int{1234, 1234},
			want: Result{Workspace: "/w", Why: "not in a GitHub Actions job"}},
		{name: "no workspace", env: map[string]string{"GITHUB_ACTIONS": "true"}, owner: [2]int{1234, 1234},
			want: Result{Why: "GITHUB_WORKSPACE is not set"}},
		{name: "unmapped owner", env: inJob, owner: [2]int{Overflow, Overflow},
			want: Result{UID: Overflow, GID: Overflow, Workspace: "/github/workspace", Why: "the workspace belongs to 65534:65534, the overflow user of a user namespace: its real owner is not mapped into this container"}},
		{name: "stat fails", env: inJob, ownerErr: errors.New("no such file"), err: `finding the owner of the workspace "/github/workspace": no such file`},
		{name: "switch fails", env: inJob, owner: [2]int{1234, 1234}, switchErr: errors.New("operation not permitted"), wantSwitch: true,
			err: `switching to 1234:1234, the owner of the workspace "/github/workspace": operation not permitted`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var switched [2]int
			calls := 0
			got, err := ToWorkspaceOwner(System{
				Getenv: func(k string) string { return tc.env[k] },
				Getuid: func() int { return tc.uid },
				Owner: func(p string) (int, int, error) {
					if p != tc.env["GITHUB_WORKSPACE"] {
						t.Errorf("Owner(%q), want the workspace", p)
					}
					return tc.owner[0], tc.owner[1], tc.ownerErr
				},
				Switch: func(uid, gid int) error { calls++; switched = [2]int{uid, gid}; return tc.switchErr },
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("ToWorkspaceOwner = %+v, %v; want %+v", got, err, tc.want)
			}
			if tc.wantSwitch != (calls == 1) || (calls == 1 && switched != tc.owner) {
				t.Errorf("Switch called %d times with %v; want a switch: %v to %v", calls, switched, tc.wantSwitch, tc.owner)
			}
		})
	}
}

func TestOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	uid, gid, err := owner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := OS(func(string) string { return "" }); uid != s.Getuid() {
		t.Errorf("owner of a new directory = %d:%d, want this process's uid %d", uid, gid, s.Getuid())
	}
	if _, _, err := owner(dir + "/missing"); err == nil {
		t.Error("owner of a missing path succeeded")
	}
}
