package sbom

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/debian"
	"github.com/anchore/syft/syft/pkg/cataloger/redhat"
)

// hostPackages are the OS packages installed on the build host, as syft's
// dpkg and rpm database catalogers read them (versions, purls with the
// distribution from /etc/os-release, licenses from the copyright files),
// with an index of the files each owns.
type hostPackages struct {
	root     string
	packages []pkg.Package
	byBase   map[string][]owned // base name of an owned file → owners
}

type owned struct {
	pkg  int    // index in packages
	path string // the owned file, as the database names it
}

// hostDatabaseFiles lists the files syft's dpkg and rpm catalogers and its
// distribution detection read, below root, as virtual path → path on disk.
func hostDatabaseFiles(root string) map[string]string {
	files := map[string]string{}
	add := func(v string) {
		p := filepath.Join(root, v)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			files[v] = p
		}
	}
	for _, v := range []string{"/etc/os-release", "/usr/lib/os-release", "/etc/debian_version",
		"/etc/system-release-cpe", "/etc/redhat-release", "/var/lib/dpkg/status"} {
		add(v)
	}
	for _, dir := range []string{"/var/lib/dpkg/info", "/var/lib/dpkg/status.d",
		"/var/lib/rpm", "/usr/share/rpm", "/usr/lib/sysimage/rpm"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			add(path.Join(dir, e.Name()))
		}
	}
	docs, _ := os.ReadDir(filepath.Join(root, "/usr/share/doc"))
	for _, e := range docs {
		add(path.Join("/usr/share/doc", e.Name(), "copyright"))
	}
	return files
}

// readHostPackages catalogs the package databases below root.
func readHostPackages(ctx context.Context, root string) (*hostPackages, error) {
	res := newRealFiles(hostDatabaseFiles(root))
	h := &hostPackages{root: root, byBase: map[string][]owned{}}
	ctx = withLicenseScanner(ctx)
	for _, c := range []pkg.Cataloger{debian.NewDBCataloger(), redhat.NewDBCataloger()} {
		pkgs, _, err := c.Catalog(ctx, res)
		if err != nil && len(pkgs) == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("reading the package database with %s: %w", c.Name(), ctx.Err())
		}
		h.packages = append(h.packages, pkgs...)
	}
	for i, p := range h.packages {
		fo, ok := p.Metadata.(pkg.FileOwner)
		if !ok {
			continue
		}
		for _, f := range fo.OwnedFiles() {
			b := path.Base(f)
			h.byBase[b] = append(h.byBase[b], owned{pkg: i, path: f})
		}
	}
	return h, nil
}

// owner returns the index of the package that installed the file at
// hostPath (below root), or -1. Files are compared by identity (device and
// inode), not by name: the loader finds /usr/lib/x86_64-linux-gnu/libm.so.6
// where dpkg recorded /lib/x86_64-linux-gnu/libm.so.6 (merged /usr), and a
// library name is usually a symbolic link to the file a package installed.
func (h *hostPackages) owner(names ...string) int {
	var target os.FileInfo
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(h.root, n)); err == nil {
			target = fi
			break
		}
	}
	if target == nil {
		return -1
	}
	for _, n := range names {
		for _, o := range h.byBase[path.Base(n)] {
			if fi, err := os.Stat(filepath.Join(h.root, o.path)); err == nil && os.SameFile(fi, target) {
				return o.pkg
			}
		}
	}
	return -1
}
