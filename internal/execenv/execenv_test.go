package execenv

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEnviron(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PATH": "/usr/bin", "HOME": "/home/u", "GOFLAGS": "-trimpath", "GITHUB_REPOSITORY": "o/r",
		"GITHUB_TOKEN": "ghs_x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x",
		"ACTIONS_RUNTIME_TOKEN": "rt", "NPM_TOKEN": "npm", "DB_PASSWORD": "pw", "MY_SECRET_VALUE": "s",
		"GITHUB_OUTPUT": "/runner/out", "RANDOM_VAR": "r", "DEPLOY_KEY_PASSWORD": "k",
	}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name  string
		named []string
		set   map[string]string
		want  []string
	}{
		{
			name: "allow-list only",
			want: []string{"GITHUB_REPOSITORY=o/r", "GOFLAGS=-trimpath", "HOME=/home/u", "PATH=/usr/bin"},
		},
		{
			name:  "named secrets pass",
			named: []string{"NPM_TOKEN", "DB_PASSWORD", "UNSET_VAR"},
			want:  []string{"DB_PASSWORD=pw", "GITHUB_REPOSITORY=o/r", "GOFLAGS=-trimpath", "HOME=/home/u", "NPM_TOKEN=npm", "PATH=/usr/bin"},
		},
		{
			name: "set overrides",
			set:  map[string]string{"TMPDIR": "/tmp/x", "HOME": "/other"},
			want: []string{"GITHUB_REPOSITORY=o/r", "GOFLAGS=-trimpath", "HOME=/other", "PATH=/usr/bin", "TMPDIR=/tmp/x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Environ(getenv, tc.named, tc.set)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Environ() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAllowedHoldsNoSecret(t *testing.T) {
	t.Parallel()
	for _, k := range Allowed {
		if Secret(k) {
			t.Errorf("allowed variable %s looks like a secret; it would never pass", k)
		}
	}
	for _, k := range []string{"GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RUNTIME_TOKEN", "X_PASSWORD", "AWS_SECRET_ACCESS_KEY", "my_api_key"} {
		if !Secret(k) {
			t.Errorf("Secret(%q) = false", k)
		}
	}
	if slices.Contains(Allowed, "GITHUB_OUTPUT") || slices.Contains(Allowed, "GITHUB_ENV") {
		t.Error("file-command variables must not reach the build command")
	}
}

func TestCheckNames(t *testing.T) {
	t.Parallel()
	if err := CheckNames([]string{"NPM_TOKEN", "_x1"}); err != nil {
		t.Errorf("CheckNames(good) = %v", err)
	}
	for _, bad := range []string{"A=b", "1X", "A B", ""} {
		if err := CheckNames([]string{bad}); err == nil || !strings.Contains(err.Error(), "not an environment variable name") {
			t.Errorf("CheckNames(%q) = %v", bad, err)
		}
	}
}

func TestLookPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=relative:" + dir}
	if got, err := LookPath("tool", env); err != nil || got != exe {
		t.Errorf("LookPath(tool) = %q, %v; want %q", got, err, exe)
	}
	for _, name := range []string{"plain", "missing"} {
		if _, err := LookPath(name, env); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookPath(%q) error = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := LookPath("tool", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookPath without PATH error = %v, want ErrNotFound", err)
	}
}
