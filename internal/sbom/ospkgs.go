package sbom

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/debian"
	"github.com/anchore/syft/syft/pkg/cataloger/redhat"

	"github.com/slipway/actions/internal/regfile"
)

const dpkgInfo = "/var/lib/dpkg/info"

// hostPackages knows which installed OS package owns which file on the
// build host: dpkg's per-package file lists (/var/lib/dpkg/info/*.list,
// every path a package installed, one per line, as dpkg -S reads them) and
// the files of the rpm database's packages (read by syft's rpm cataloger).
// Package metadata (version, purl, licenses) comes from syft's catalogers,
// read for the owning packages only (see packages).
type hostPackages struct {
	root   string
	rpms   []pkg.Package
	byBase map[string][]owned // base name of an owned file → owners
}

// owned is one file of a package: dpkg names the package by its info file
// ("libc6:amd64", or "bash" for a package of one architecture); rpm by an
// index in rpms.
type owned struct {
	dpkg string
	rpm  int
	path string // the owned file, as the database names it
}

// readHostPackages indexes the files the host's packages own, below root.
func readHostPackages(ctx context.Context, root string) (*hostPackages, error) {
	h := &hostPackages{root: root, byBase: map[string][]owned{}}
	entries, _ := os.ReadDir(filepath.Join(root, dpkgInfo))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".list")
		if !ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, p := range readList(filepath.Join(root, dpkgInfo, e.Name())) {
			b := path.Base(p)
			h.byBase[b] = append(h.byBase[b], owned{dpkg: name, rpm: -1, path: p})
		}
	}
	rpms, err := catalogHost(ctx, hostDatabaseFiles(root, nil), redhat.NewDBCataloger())
	if err != nil {
		return nil, err
	}
	h.rpms = rpms
	for i, p := range rpms {
		if fo, ok := p.Metadata.(pkg.FileOwner); ok {
			for _, f := range fo.OwnedFiles() {
				b := path.Base(f)
				h.byBase[b] = append(h.byBase[b], owned{rpm: i, path: f})
			}
		}
	}
	return h, nil
}

// readList reads a dpkg .list file: one absolute path per line ("/." is
// the root). A line longer than 64 KiB ends the list.
func readList(p string) []string {
	f, err := regfile.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "/") && l != "/." {
			out = append(out, l)
		}
	}
	return out
}

// owner returns the file of a package that is the file at the first of
// names (paths below root) that exists, or false. Files are compared by
// identity (device and inode), not by name: the loader finds
// /usr/lib/x86_64-linux-gnu/libm.so.6 where dpkg recorded
// /lib/x86_64-linux-gnu/libm.so.6 (merged /usr, where dpkg -S fails), and a
// library name is usually a symbolic link to the file a package installed.
func (h *hostPackages) owner(names ...string) (owned, bool) {
	var target os.FileInfo
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(h.root, n)); err == nil {
			target = fi
			break
		}
	}
	if target == nil {
		return owned{}, false
	}
	for _, n := range names {
		for _, o := range h.byBase[path.Base(n)] {
			if fi, err := os.Stat(filepath.Join(h.root, o.path)); err == nil && os.SameFile(fi, target) {
				return o, true
			}
		}
	}
	return owned{}, false
}

// key names an owning package: "dpkg:NAME[:ARCH]" or "rpm:INDEX".
func (o owned) key() string {
	if o.dpkg != "" {
		return "dpkg:" + o.dpkg
	}
	return fmt.Sprintf("rpm:%d", o.rpm)
}

// packages returns the owning packages as syft's catalogers describe them
// (keyed by owned.key): the dpkg cataloger reads the status file, and the
// info and copyright files of these packages only, so that the licenses of
// hundreds of other packages are not classified.
func (h *hostPackages) packages(ctx context.Context, owners []owned) (map[string]pkg.Package, error) {
	out := map[string]pkg.Package{}
	var names []string
	for _, o := range owners {
		if o.dpkg == "" {
			out[o.key()] = h.rpms[o.rpm]
			continue
		}
		name, _, _ := strings.Cut(o.dpkg, ":")
		names = append(names, name)
	}
	if len(names) == 0 {
		return out, nil
	}
	debs, err := catalogHost(ctx, hostDatabaseFiles(h.root, names), debian.NewDBCataloger())
	if err != nil {
		return nil, err
	}
	for _, o := range owners {
		if o.dpkg == "" {
			continue
		}
		name, arch, _ := strings.Cut(o.dpkg, ":")
		for _, p := range debs {
			if m, ok := p.Metadata.(pkg.DpkgDBEntry); ok && p.Name == name && (arch == "" || m.Architecture == arch) {
				out[o.key()] = p
				break
			}
		}
		if _, ok := out[o.key()]; !ok {
			return nil, fmt.Errorf("dpkg lists the files of %q, but its status file has no such installed package", o.dpkg)
		}
	}
	return out, nil
}

// hostDatabaseFiles lists what syft's catalogers and its distribution
// detection read below root, as virtual path → path on disk: the release
// files, the dpkg status file, the rpm databases, and the dpkg info files
// and copyright file of the named packages.
func hostDatabaseFiles(root string, debs []string) map[string]string {
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
	for _, dir := range []string{"/var/lib/dpkg/status.d", "/var/lib/rpm", "/usr/share/rpm", "/usr/lib/sysimage/rpm"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			add(path.Join(dir, e.Name()))
		}
	}
	for _, name := range debs {
		matches, _ := filepath.Glob(filepath.Join(root, dpkgInfo, name+"[.:]*"))
		for _, m := range matches {
			add(path.Join(dpkgInfo, filepath.Base(m)))
		}
		add(path.Join("/usr/share/doc", name, "copyright"))
	}
	return files
}

// catalogHost runs one of syft's database catalogers over files.
func catalogHost(ctx context.Context, files map[string]string, c pkg.Cataloger) ([]pkg.Package, error) {
	pkgs, _, err := c.Catalog(withLicenseScanner(ctx), newRealFiles(files))
	if err != nil && len(pkgs) == 0 && ctx.Err() != nil {
		return nil, fmt.Errorf("reading the package database with %s: %w", c.Name(), ctx.Err())
	}
	return pkgs, nil
}
