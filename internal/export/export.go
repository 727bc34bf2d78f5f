package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/workspace"
)

// Release is what a source tells of an admitted release.
type Release struct {
	ID             string `json:"releaseId"`
	LogIndex       uint64 `json:"logIndex"`
	Receipt        string `json:"receipt"`
	ManifestDigest string `json:"manifestDigest"`
}

// Source is where a release is exported from. The readers it returns are
// closed by the caller.
type Source interface {
	// Release returns the admitted release id; an error wrapping
	// ErrNotFound when there is none.
	Release(ctx context.Context, id string) (Release, error)
	// Manifest returns the admitted manifest's canonical JSON.
	Manifest(ctx context.Context, rel Release) (io.ReadCloser, error)
	// File returns the content of the release's file at path.
	File(ctx context.Context, rel Release, path string) (io.ReadCloser, error)
	// VerifierKey returns the log's note verifier key.
	VerifierKey(ctx context.Context) (string, error)
	// String names the source in the README ("https://slipway.example.org").
	String() string
}

// ValidID reports whether id has the form of a release ID: "r-" and 16
// lowercase hex digits.
func ValidID(id string) bool {
	if len(id) != 18 || id[:2] != "r-" {
		return false
	}
	for _, c := range id[2:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ErrNotFound is wrapped by a Source's errors for a release it does not have.
var ErrNotFound = errors.New("not found")

// The files an export adds beside the release's own.
const (
	ManifestFile = "manifest.json"
	KeyFile      = "log.pub"
	ReadmeFile   = "README.txt"
)

// Options say what to export where.
type Options struct {
	Source  Source
	Release string
	// Output is the directory to create; it must not exist, or be empty.
	Output string
	// Now is the clock (for the README); time.Now when nil.
	Now func() time.Time
}

// Result says what was written.
type Result struct {
	Release Release
	// Files are the paths written, relative to the output, sorted as the
	// manifest records them (receipts and the added files last).
	Files []string
	// Bytes is the size of the release's files.
	Bytes int64
}

// Export writes the release into o.Output; on error nothing is left there.
func Export(ctx context.Context, o Options) (_ *Result, err error) {
	out, err := filepath.Abs(o.Output)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", o.Output, err)
	}
	if err := CheckOutput(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("creating the parent of the output %q: %w", o.Output, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".export-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary directory beside the output %q: %w; check that its parent is writable", o.Output, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	res, err := write(ctx, o, tmp)
	if err != nil {
		return nil, err
	}
	if err := syncTree(tmp); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("moving the export into place at %q: %w; give a new or empty directory", o.Output, err)
	}
	return res, syncDir(filepath.Dir(out))
}

// CheckOutput refuses an output that exists and is not an empty directory.
func CheckOutput(out string) error {
	fi, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %q: %w", out, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("output %q exists and is not a directory: give a new directory (export never overwrites)", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("output %q: %w", out, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("output %q exists and is not empty: give a new directory (export never overwrites or merges)", out)
	}
	return nil
}

// write fetches everything into dir.
func write(ctx context.Context, o Options, dir string) (*Result, error) {
	rel, err := o.Source.Release(ctx, o.Release)
	if err != nil {
		return nil, err
	}
	if rel.ID != o.Release {
		return nil, fmt.Errorf("asked for release %q, the source answered release %q; check the source", o.Release, rel.ID)
	}
	if rel.Receipt == "" {
		return nil, fmt.Errorf("release %q has no receipt at the source; it cannot be verified offline", rel.ID)
	}
	m, err := manifest(ctx, o.Source, rel)
	if err != nil {
		return nil, err
	}
	root, err := workspace.New(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: rel}
	got := map[string]digest.SHA256{}
	for _, rec := range m.Records {
		if rec.Path == "" {
			continue
		}
		if d, ok := got[rec.Path]; ok {
			if d != rec.Digest {
				return nil, fmt.Errorf("the manifest of release %q records %q twice with different digests; it cannot be exported", rel.ID, rec.Path)
			}
			continue
		}
		if err := fetch(ctx, o.Source, rel, root, rec); err != nil {
			return nil, err
		}
		got[rec.Path] = rec.Digest
		res.Files = append(res.Files, rec.Path)
		res.Bytes += rec.Size
	}
	added, err := addReceipts(root, m, rel)
	if err != nil {
		return nil, err
	}
	res.Files = append(res.Files, added...)
	key, err := o.Source.VerifierKey(ctx)
	if err != nil {
		return nil, err
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, "\r\n") || len(key) > 1024 {
		return nil, fmt.Errorf("the source's log verifier key %q is not one note verifier key line", truncate(key, 80))
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{KeyFile, []byte(key + "\n")},
		{ReadmeFile, readme(o.Source, rel, now())},
	} {
		if err := create(root, f.name, bytes.NewReader(f.data)); err != nil {
			return nil, err
		}
	}
	if err := m.WriteFile(filepath.Join(dir, ManifestFile)); err != nil {
		return nil, fmt.Errorf("writing the manifest: %w", err)
	}
	res.Files = append(res.Files, KeyFile, ReadmeFile, ManifestFile)
	return res, nil
}

// manifest reads the admitted manifest and checks it is the release's.
func manifest(ctx context.Context, src Source, rel Release) (*artifact.Manifest, error) {
	want, err := digest.Parse(rel.ManifestDigest)
	if err != nil {
		return nil, fmt.Errorf("release %q: its manifest digest: %w", rel.ID, err)
	}
	r, err := src.Manifest(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, artifact.MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of release %q: %w", rel.ID, err)
	}
	if got := digest.SHA256(sha256.Sum256(raw)); got != want {
		return nil, fmt.Errorf("the manifest of release %q arrived with digest %q, not the release's %q: the source's copy is damaged; tell its operator", rel.ID, got, want)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest of "+rel.ID)
	if err != nil {
		return nil, fmt.Errorf("release %q was not admitted from a build manifest (%v): export writes releases uploaded as files; a release admitted by reference is verified with slipway verify --image", rel.ID, err)
	}
	for _, rec := range m.ByRole(artifact.RoleArtifact) {
		if rec.Path == "" {
			return nil, fmt.Errorf("release %q holds the image %q, which is in a registry, not a file: export writes releases uploaded as files; verify the image with slipway verify --image", rel.ID, rec.URI)
		}
	}
	for _, rec := range m.Records {
		switch rec.Path {
		case ManifestFile, KeyFile, ReadmeFile, rel.ID + artifact.ReceiptExt:
			return nil, fmt.Errorf("release %q records a file at %q, where the export writes its own; it cannot be exported", rel.ID, rec.Path)
		}
	}
	return m, nil
}

// fetch streams rec's file to its path, checking size and digest on the
// way; a mismatch leaves nothing (the whole export is discarded).
func fetch(ctx context.Context, src Source, rel Release, root *workspace.Root, rec artifact.Record) error {
	r, err := src.File(ctx, rel, rec.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	h := digest.New()
	n, err := createCounted(root, rec.Path, io.TeeReader(io.LimitReader(r, rec.Size+1), h))
	if err != nil {
		return fmt.Errorf("writing %q of release %q: %w", rec.Path, rel.ID, err)
	}
	if got := h.Digest(); n != rec.Size || got != rec.Digest {
		return fmt.Errorf("file %q of release %q arrived with %d bytes and digest %q, but the manifest records %d bytes and %q: the source's copy is damaged or was changed; nothing was written, tell the source's operator", rec.Path, rel.ID, n, got, rec.Size, rec.Digest)
	}
	return nil
}

// addReceipts writes the release's receipt as ID.receipt and beside every
// artifact (ARTIFACT.receipt), as slipway upload does, and records them.
func addReceipts(root *workspace.Root, m *artifact.Manifest, rel Release) ([]string, error) {
	data := []byte(rel.Receipt)
	d := digest.SHA256(sha256.Sum256(data))
	files := []string{rel.ID + artifact.ReceiptExt}
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		p := a.Path + artifact.ReceiptExt
		m.Add(artifact.NewReceipt(p, d, int64(len(data)), a.Digest))
		files = append(files, p)
	}
	for _, p := range files {
		if err := create(root, p, bytes.NewReader(data)); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func create(root *workspace.Root, path string, r io.Reader) error {
	_, err := createCounted(root, path, r)
	return err
}

// createCounted writes a new file at path inside root from r, fsynced.
func createCounted(root *workspace.Root, path string, r io.Reader) (int64, error) {
	if err := artifact.CheckPath(path); err != nil {
		return 0, fmt.Errorf("path %q %w", path, err)
	}
	dst, err := root.Resolve(path)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, fmt.Errorf("%w (two files at one path?)", err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// syncTree fsyncs every directory under dir (files were synced as written).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
