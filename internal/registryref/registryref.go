package registryref

import (
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Example is a well-formed reference, used in error messages.
const Example = "ghcr.io/owner/app:v1"

// Parse parses ref, which must name its registry and a tag or a digest:
// "registry/repository:tag" or "registry/repository@sha256:<hex>". A
// reference to a loopback registry is insecure (plain HTTP).
func Parse(ref string) (name.Reference, error) {
	opts, err := check(ref)
	if err != nil {
		return nil, err
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("parsing reference %q: %s; use registry/repository:tag, e.g. %s", ref, reason(err), Example)
	}
	return r, nil
}

// ParseTag is Parse for references that must be a tag, such as the target of
// a push: a digest reference is refused with an error that says so.
func ParseTag(ref string) (name.Tag, error) {
	opts, err := check(ref)
	if err != nil {
		return name.Tag{}, err
	}
	t, err := name.NewTag(ref, opts...)
	if err != nil {
		if _, derr := name.NewDigest(ref, opts...); derr == nil {
			return name.Tag{}, fmt.Errorf("reference %q is a digest; a tag is needed here: use registry/repository:tag, e.g. %s", ref, Example)
		}
		return name.Tag{}, fmt.Errorf("parsing reference %q: %s; use registry/repository:tag, e.g. %s", ref, reason(err), Example)
	}
	return t, nil
}

// ParseRepository parses a repository, "registry/repository"; a tag or a
// digest after it is accepted and dropped, so that a reference pasted from
// elsewhere works. A repository of a loopback registry is insecure.
func ParseRepository(repo string) (name.Repository, error) {
	opts, err := check(repo)
	if err != nil {
		return name.Repository{}, err
	}
	r, err := name.NewRepository(repo, opts...)
	if err == nil {
		return r, nil
	}
	if ref, rerr := name.ParseReference(repo, opts...); rerr == nil {
		return ref.Context(), nil
	}
	return name.Repository{}, fmt.Errorf("parsing repository %q: %s; use registry/repository, e.g. %s", repo, reason(err), strings.SplitN(Example, ":", 2)[0])
}

// check finds what name's parser would get wrong or explain badly, and
// returns the parse options for ref.
func check(ref string) ([]name.Option, error) {
	switch {
	case ref == "":
		return nil, fmt.Errorf("the reference is empty; use registry/repository:tag, e.g. %s", Example)
	case strings.TrimSpace(ref) != ref:
		return nil, fmt.Errorf("reference %q has leading or trailing white space; remove it", ref)
	case strings.Contains(ref, "://"):
		return nil, fmt.Errorf("reference %q has a URL scheme; remove it (loopback registries are reached over plain HTTP without one, others over HTTPS): e.g. %s", ref, Example)
	}
	host, _, ok := strings.Cut(ref, "/")
	if !ok || !looksLikeHost(host) {
		return nil, fmt.Errorf("reference %q names no registry; start it with the registry host, e.g. %s (docker.io/library/app:v1 for Docker Hub, localhost:5000/app:v1 for a local registry)", ref, Example)
	}
	opts := []name.Option{name.StrictValidation}
	if IsLoopback(host) {
		opts = append(opts, name.Insecure)
	}
	return opts, nil
}

// looksLikeHost applies the rule Docker uses to tell a registry from the
// first path component of a repository: it has a dot or a port, or is
// "localhost".
func looksLikeHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// IsLoopback reports whether host ("name" or "name:port", IPv6 in brackets)
// is a loopback registry: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// reason is name's error message without its repetition of the input.
func reason(err error) string {
	return strings.TrimSpace(err.Error())
}

// LowercaseRepository returns ref with its repository path in lower case
// (ASCII letters only) and whether that changed it: "ghcr.io/Owner/Repo:V1" becomes
// "ghcr.io/owner/repo:V1". OCI repository names are lower case, while
// GitHub's owner and repository names (github.repository) keep their case.
// The registry host (case-insensitive) and the tag or digest (case-sensitive)
// are kept as given. A ref without a registry host is returned unchanged,
// for Parse to refuse.
func LowercaseRepository(ref string) (string, bool) {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || !looksLikeHost(host) {
		return ref, false
	}
	end := len(rest)
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		end = i
	}
	if i := strings.LastIndexByte(rest[:end], ':'); i > strings.LastIndexByte(rest[:end], '/') {
		end = i
	}
	repo := []byte(rest[:end])
	changed := false
	for i, c := range repo {
		if 'A' <= c && c <= 'Z' {
			repo[i], changed = c+'a'-'A', true
		}
	}
	if !changed {
		return ref, false
	}
	return host + "/" + string(repo) + rest[end:], true
}
