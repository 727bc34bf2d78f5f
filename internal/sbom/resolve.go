package sbom

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/exitcode"
)

// Resolve looks at the subject on disk: it makes paths absolute against
// workspace, turns a KindPath subject into a file, a directory or (when
// nothing exists there and it reads as one) a registry reference, and checks
// that syft will be able to read it. Its errors are exitcode.BadInput errors
// naming the subject and what to do.
func Resolve(s Subject, workspace string) (Subject, error) {
	if s.Kind == KindRegistry {
		return s, nil
	}
	abs := s.Path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(workspace, abs)
	}
	abs = filepath.Clean(abs)
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && s.Kind == KindPath && s.Ref != "" {
			return Subject{Kind: KindRegistry, Ref: s.Ref}, nil
		}
		return s, badSubject(s, err)
	}
	switch {
	case s.Kind == KindOCILayout:
		if err := checkOCILayout(abs, fi); err != nil {
			return s, exitcode.WithFile(exitcode.BadInput(err), s.Path)
		}
		return Subject{Kind: KindOCILayout, Path: abs}, nil
	case fi.IsDir():
		if s.Kind == KindFile {
			return s, exitcode.BadInputf("subject %q is a directory, not a file; write dir:%s or drop the file: prefix", s.String(), s.Path)
		}
		if err := checkReadable(abs); err != nil {
			return s, badSubject(s, err)
		}
		return Subject{Kind: KindDir, Path: abs}, nil
	case fi.Mode().IsRegular():
		if s.Kind == KindDir {
			return s, exitcode.BadInputf("subject %q is a file, not a directory; write file:%s or drop the dir: prefix", s.String(), s.Path)
		}
		if err := checkReadable(abs); err != nil {
			return s, badSubject(s, err)
		}
		return Subject{Kind: KindFile, Path: abs}, nil
	}
	return s, exitcode.WithFile(exitcode.BadInputf("subject %q is a %s, not a regular file or directory; give the file or directory to describe", s.Path, fi.Mode().Type()), s.Path)
}

func badSubject(s Subject, err error) error {
	var hint string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint = "give an existing file or directory (relative to the workspace), oci-layout:DIR, or registry:HOST/REPO:TAG"
	case errors.Is(err, fs.ErrPermission):
		hint = "make it readable by the user running slipway"
	default:
		hint = "check the path"
	}
	return exitcode.WithFile(exitcode.BadInput(fmt.Errorf("subject %q: %w; %s", s.Path, err, hint)), s.Path)
}

// checkReadable opens path (a file or a directory) and closes it again,
// reading nothing, so that an unreadable subject fails before cataloging.
func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// checkOCILayout checks the marks of an OCI image layout: a directory with
// an oci-layout file and an index.json.
func checkOCILayout(dir string, fi fs.FileInfo) error {
	const how = "write one with \"skopeo copy docker://IMAGE oci:DIR\" or \"crane pull --format=oci IMAGE DIR\""
	if !fi.IsDir() {
		return fmt.Errorf("subject %q: %q is not a directory, so not an OCI image layout; %s", SchemeOCILayout+dir, dir, how)
	}
	for _, f := range []string{"oci-layout", "index.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("subject %q: %q is not an OCI image layout (no %s file); %s", SchemeOCILayout+dir, dir, f, how)
		}
	}
	return nil
}
