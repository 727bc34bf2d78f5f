package execenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// Allowed lists the variables passed to child processes without being named:
// locale and shell basics, the usual toolchain settings, and the non-secret
// context GitHub Actions gives every step. Variables that look like secrets
// (see Secret) are dropped even when listed here.
var Allowed = []string{
	// The basics.
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "CI",
	"LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES",
	"LC_NUMERIC", "LC_TIME", "LC_MONETARY",
	// Go.
	"GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "GOPRIVATE",
	"GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOTOOLCHAIN", "GOROOT", "GOOS",
	"GOARCH", "GOAMD64", "GOARM", "GOARM64", "GOEXPERIMENT", "GOWORK",
	"CGO_ENABLED",
	// C and C++.
	"CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "AR",
	"PKG_CONFIG_PATH",
	// Rust.
	"CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "RUSTFLAGS",
	// Python, Node, Java.
	"PYENV_ROOT", "PYENV_VERSION", "VIRTUAL_ENV", "NVM_DIR", "JAVA_HOME",
	// GitHub Actions context (never the token, the OIDC request variables
	// or the file-command paths such as GITHUB_OUTPUT).
	"GITHUB_ACTIONS", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF",
	"GITHUB_WORKFLOW_SHA", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER",
	"GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_ACTION", "GITHUB_ACTOR",
	"GITHUB_ACTOR_ID", "GITHUB_TRIGGERING_ACTOR", "GITHUB_REPOSITORY",
	"GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER",
	"GITHUB_REPOSITORY_OWNER_ID", "GITHUB_EVENT_NAME", "GITHUB_SHA",
	"GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_HEAD_REF",
	"GITHUB_BASE_REF", "GITHUB_SERVER_URL", "GITHUB_API_URL",
	"GITHUB_GRAPHQL_URL", "GITHUB_WORKSPACE", "RUNNER_OS", "RUNNER_ARCH",
	"RUNNER_NAME", "RUNNER_ENVIRONMENT", "RUNNER_TOOL_CACHE", "RUNNER_DEBUG",
}

// secretName matches names that are never passed unless named: the Actions
// token and OIDC request variables and anything called a token, password,
// secret, key or credential.
var secretName = lazyregexp.New(`(?i)^(ACTIONS_ID_TOKEN_REQUEST_.*|ACTIONS_RUNTIME_.*|ACTIONS_CACHE_URL|GITHUB_TOKEN)$|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY`)

// Secret reports whether a variable named name looks like a credential.
func Secret(name string) bool { return secretName.MatchString(name) }

var validName = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckNames checks variable names given by the user (the pass-env input).
func CheckNames(names []string) error {
	for _, n := range names {
		if !validName.MatchString(n) {
			return fmt.Errorf("%q is not an environment variable name; list names only (letters, digits and _), not NAME=value", n)
		}
	}
	return nil
}

// Environ returns the environment for a child process as "NAME=value"
// pairs, sorted by name: the allowed variables that getenv has (secrets
// dropped), then every variable in named, then set, which overrides both.
func Environ(getenv func(string) string, named []string, set map[string]string) []string {
	vals := map[string]string{}
	for _, k := range Allowed {
		if v := getenv(k); v != "" && !Secret(k) {
			vals[k] = v
		}
	}
	for _, k := range named {
		if v := getenv(k); v != "" {
			vals[k] = v
		}
	}
	for k, v := range set {
		vals[k] = v
	}
	out := make([]string, 0, len(vals))
	for k, v := range vals {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Get returns the value of name in env ("NAME=value" pairs), last one wins.
func Get(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// ErrNotFound is wrapped by LookPath's error for a program that is not on PATH.
var ErrNotFound = errors.New("not found on PATH")

// LookPath finds the executable file named prog in the directories of the
// PATH in env, as a shell would. It never uses the process's own PATH.
func LookPath(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		if isExecutable(prog) {
			return prog, nil
		}
		return "", fmt.Errorf("%q: %w", prog, ErrNotFound)
	}
	for _, dir := range filepath.SplitList(Get(env, "PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // relative PATH entries would depend on the working directory
		}
		p := filepath.Join(dir, prog)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: %w", prog, ErrNotFound)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&fs.FileMode(0o111) != 0
}
