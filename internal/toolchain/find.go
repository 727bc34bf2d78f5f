package toolchain

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/execenv"
)

// CheckNames checks the declared toolchains' syntax: a program name or an
// absolute path, each once.
func CheckNames(names []string) error {
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "" || strings.ContainsAny(n, "\x00\n\r\t") || strings.TrimSpace(n) != n:
			errs = append(errs, fmt.Errorf("%q is not a program name or path", n))
		case strings.Contains(n, "/") && !filepath.IsAbs(n):
			errs = append(errs, fmt.Errorf("%q is a relative path; give a program name found on PATH (such as \"gcc\") or an absolute path", n))
		case strings.Contains(n, "/") && filepath.Clean(n) != n:
			errs = append(errs, fmt.Errorf("%q is not a clean absolute path; write it as %q", n, filepath.Clean(n)))
		case n == "." || n == "..":
			errs = append(errs, fmt.Errorf("%q is not a program name", n))
		case seen[n]:
			errs = append(errs, fmt.Errorf("%q is listed twice", n))
		}
		seen[n] = true
	}
	return errors.Join(errs...)
}

// Find finds each declared toolchain on the PATH of env (a name) or at its
// path, and reports every one that is missing at once.
func Find(names []string, env []string) ([]Declared, error) {
	if err := CheckNames(names); err != nil {
		return nil, err
	}
	var (
		out       []Declared
		errs      []error
		notOnPath []string
	)
	for _, n := range names {
		p, err := execenv.LookPath(n, env)
		if err != nil && strings.Contains(n, "/") {
			errs = append(errs, fmt.Errorf("%q is not an executable file; install it there, or remove it from toolchains", n))
			continue
		}
		if err != nil {
			notOnPath = append(notOnPath, strconv.Quote(n))
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q (%s): resolving its symbolic links: %w", n, p, err))
			continue
		}
		out = append(out, Declared{Name: filepath.Base(n), Path: p, Real: real})
	}
	if len(notOnPath) > 0 {
		errs = append(errs, fmt.Errorf("%s not found on the build command's PATH %q; install them or add their directories to PATH, or remove them from toolchains", strings.Join(notOnPath, ", "), execenv.Get(env, "PATH")))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
