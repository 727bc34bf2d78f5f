package sbom

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says what a subject is.
type Kind int

// The kinds of subject. KindPath is a path not yet looked at (a file or a
// directory, or else a registry reference when nothing exists at the path);
// Resolve turns it into one of the others.
const (
	KindPath Kind = iota
	KindFile
	KindDir
	KindOCILayout
	KindRegistry
)

func (k Kind) String() string {
	switch k {
	case KindPath:
		return "path"
	case KindFile:
		return "file"
	case KindDir:
		return "directory"
	case KindOCILayout:
		return "OCI image layout"
	case KindRegistry:
		return "registry image"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Subject is the parsed "subject" input.
type Subject struct {
	Kind Kind
	// Path is the file, directory or OCI layout directory, as given
	// (relative paths are relative to the workspace).
	Path string
	// Ref is the image reference of a registry subject. For a KindPath
	// subject it is set when the input also reads as a reference with an
	// explicit registry host, which is used when nothing exists at Path.
	Ref string
}

// Scheme prefixes of the subject input.
const (
	SchemeOCILayout = "oci-layout:"
	SchemeRegistry  = "registry:"
	SchemeFile      = "file:"
	SchemeDir       = "dir:"
	// schemeOCIDir is syft's name for an OCI layout, accepted as an alias.
	schemeOCIDir = "oci-dir:"
)

// unsupportedSchemes are syft source schemes this stage refuses, with what
// to use instead.
var unsupportedSchemes = map[string]string{
	"docker":             "image daemons are never contacted; push the image and use registry:REF, or save it with skopeo as oci-layout:DIR",
	"podman":             "image daemons are never contacted; push the image and use registry:REF, or save it with skopeo as oci-layout:DIR",
	"containerd":         "image daemons are never contacted; push the image and use registry:REF, or save it with skopeo as oci-layout:DIR",
	"containers-storage": "local image stores are never read; push the image and use registry:REF, or save it with skopeo as oci-layout:DIR",
	"docker-archive":     "unpack the image into an OCI layout and use oci-layout:DIR, or give the tarball as a plain file to describe the file itself",
	"oci-archive":        "unpack the archive (tar -x) and use oci-layout:DIR, or give the tarball as a plain file to describe the file itself",
	"singularity":        "give the .sif file as a plain file",
	"snap":               "give the .snap file as a plain file",
	"oci-model-registry": "use registry:REF",
}

// ParseSubject parses the "subject" input without touching the filesystem:
//
//	oci-layout:DIR       an OCI image layout directory (oci-dir:DIR too)
//	registry:REF         an image in a registry, such as registry:127.0.0.1:5000/app:v1
//	file:PATH, dir:PATH  a file or a directory, explicitly
//	PATH                 a file or a directory; when nothing exists there and
//	                     it reads as HOST/REPO[:TAG|@DIGEST], a registry image
//
// Surrounding white space is ignored.
func ParseSubject(in string) (Subject, error) {
	s := strings.TrimSpace(in)
	const want = "; give a file or directory path, oci-layout:DIR, or registry:HOST/REPO:TAG"
	switch {
	case s == "":
		return Subject{}, fmt.Errorf("subject is empty%s", want)
	case strings.ContainsAny(s, "\x00\n\r"):
		return Subject{}, fmt.Errorf("subject %q contains a NUL or line break%s", s, want)
	}
	if rest, ok := cutScheme(s, SchemeOCILayout, schemeOCIDir); ok {
		if rest == "" {
			return Subject{}, fmt.Errorf("subject %q names no directory; write oci-layout:DIR", s)
		}
		return Subject{Kind: KindOCILayout, Path: rest}, nil
	}
	if rest, ok := cutScheme(s, SchemeRegistry); ok {
		ref, err := name.ParseReference(rest)
		if err != nil {
			return Subject{}, fmt.Errorf("parsing image reference %q: %v; write registry:HOST/REPO:TAG or registry:HOST/REPO@sha256:HEX", rest, err)
		}
		return Subject{Kind: KindRegistry, Ref: ref.Name()}, nil
	}
	if rest, ok := cutScheme(s, SchemeFile); ok {
		if rest == "" {
			return Subject{}, fmt.Errorf("subject %q names no file; write file:PATH", s)
		}
		return Subject{Kind: KindFile, Path: rest}, nil
	}
	if rest, ok := cutScheme(s, SchemeDir); ok {
		if rest == "" {
			return Subject{}, fmt.Errorf("subject %q names no directory; write dir:PATH", s)
		}
		return Subject{Kind: KindDir, Path: rest}, nil
	}
	if scheme, _, ok := strings.Cut(s, ":"); ok {
		if hint, bad := unsupportedSchemes[scheme]; bad {
			return Subject{}, fmt.Errorf("subject %q: the %q source is not supported: %s", s, scheme, hint)
		}
	}
	return Subject{Kind: KindPath, Path: s, Ref: registryRef(s)}, nil
}

func cutScheme(s string, schemes ...string) (string, bool) {
	for _, p := range schemes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest, true
		}
	}
	return "", false
}

// registryRef returns s as a normalized image reference when it names its
// registry host explicitly (a first path element with a dot or a port, or
// "localhost"), and "" otherwise: a bare "app:v1" is a file name, never
// Docker Hub.
func registryRef(s string) string {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") || strings.Contains(s, `\`) {
		return ""
	}
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return ""
	}
	ref, err := name.ParseReference(s)
	if err != nil || ref.Context().RegistryStr() != host {
		return ""
	}
	return ref.Name()
}

// String returns the subject in the input syntax; ParseSubject reads it back.
func (s Subject) String() string {
	switch s.Kind {
	case KindOCILayout:
		return SchemeOCILayout + s.Path
	case KindRegistry:
		return SchemeRegistry + s.Ref
	case KindFile:
		return SchemeFile + s.Path
	case KindDir:
		return SchemeDir + s.Path
	}
	return s.Path
}

// IsImage reports whether the subject is a container image.
func (s Subject) IsImage() bool { return s.Kind == KindOCILayout || s.Kind == KindRegistry }
