package sbom

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/anchore/packageurl-go"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"
)

// FoundBy values of the packages that stand for a needed library no OS
// package owns (found on the host, or not found at all). Libraries an OS
// package owns are that package, as syft's dpkg or rpm cataloger found it.
const (
	FoundByELFNeeded   = "elf-needed-resolver"
	FoundByELFNotFound = "elf-needed-resolver:not-found"
)

// Native is what Generate found about an ELF subject's shared libraries.
type Native struct {
	// Libraries are the libraries it needs, directly or not, and its
	// program interpreter.
	Libraries []*library
	// Packaged, Unowned and Missing count the libraries owned by an OS
	// package, found but owned by none, and not found.
	Packaged, Unowned, Missing int
	// direct are the packages the subject itself needs.
	direct []pkg.Package
}

// addNative adds to s the shared libraries the ELF file at path needs, as
// the OS packages that own them (or as bare library packages), with
// dependency relationships between them. root is the host's file system
// root ("/"). It returns nil for a file that is not a dynamically linked
// ELF object; a malformed ELF file is logged and left as syft described it.
func addNative(ctx context.Context, s *syftsbom.SBOM, path, root string, log *slog.Logger) (*Native, error) {
	obj, err := readELFFile(path)
	switch {
	case errors.Is(err, errNotELF):
		return nil, nil
	case err != nil:
		log.Warn("the subject looks like an ELF file but cannot be read as one; its shared libraries are not listed", "subject", path, "error", err)
		return nil, nil
	case obj.interp == "" && len(obj.needed) == 0:
		return nil, nil // statically linked
	}
	n := &Native{Libraries: newLoader(root, obj).resolve(path, obj)}
	host, err := readHostPackages(ctx, root)
	if err != nil {
		return nil, err
	}
	// The packages that own a library, as syft's catalogers describe them.
	var owners []owned
	ownerOf := map[*library]string{} // library → owned.key, "" for none
	for _, lib := range n.Libraries {
		if lib.Path == "" {
			continue
		}
		if o, ok := host.owner(lib.Path, lib.Real); ok {
			ownerOf[lib] = o.key()
			if !slices.ContainsFunc(owners, func(x owned) bool { return x.key() == o.key() }) {
				owners = append(owners, o)
			}
		}
	}
	described, err := host.packages(ctx, owners)
	if err != nil {
		return nil, err
	}
	// Each library is an OS package (one per package, however many of its
	// libraries are needed) or a bare library package.
	ospkgs := map[string]pkg.Package{}
	libPkg := map[string]pkg.Package{}
	for _, lib := range n.Libraries {
		switch key := ownerOf[lib]; {
		case lib.Path == "":
			n.Missing++
			log.Warn("a shared library the subject needs is not found on this host; it is listed without version", "subject", path, "library", lib.Name, "searched", lib.Searched)
			libPkg[lib.Name] = pkg.Package{Name: lib.Name, Type: pkg.BinaryPkg, FoundBy: FoundByELFNotFound}
		case key == "":
			n.Unowned++
			libPkg[lib.Name] = pkg.Package{Name: lib.Name, Type: pkg.BinaryPkg, FoundBy: FoundByELFNeeded, Locations: file.NewLocationSet(libLocation(lib))}
		default:
			n.Packaged++
			p, ok := ospkgs[key]
			if !ok {
				p = trimmedPackage(described[key])
			}
			if !hasRealPath(p.Locations, lib.Real) {
				p.Locations.Add(libLocation(lib))
			}
			ospkgs[key] = p
		}
	}
	for key, p := range ospkgs {
		p.SetID()
		ospkgs[key] = p
		s.Artifacts.Packages.Add(p)
	}
	for name, p := range libPkg {
		p.SetID()
		libPkg[name] = p
		s.Artifacts.Packages.Add(p)
	}
	for lib, key := range ownerOf {
		libPkg[lib.Name] = ospkgs[key]
	}
	seen := map[[2]artifact.ID]bool{}
	for _, lib := range n.Libraries {
		to := libPkg[lib.Name]
		for _, by := range lib.NeededBy {
			if by == "" {
				n.direct = appendPackage(n.direct, to)
				continue
			}
			from := libPkg[by]
			key := [2]artifact.ID{to.ID(), from.ID()}
			if from.ID() == to.ID() || seen[key] {
				continue
			}
			seen[key] = true
			s.Relationships = append(s.Relationships, artifact.Relationship{From: to, To: from, Type: artifact.DependencyOfRelationship})
		}
	}
	return n, nil
}

// trimmedPackage is an OS package as the SBOM lists it: the database as
// its evidence (not every info file), and no list of every file it owns.
func trimmedPackage(p pkg.Package) pkg.Package {
	locs := file.NewLocationSet()
	for _, l := range p.Locations.ToSlice() {
		if l.Annotations[pkg.EvidenceAnnotationKey] == pkg.PrimaryEvidenceAnnotation {
			locs.Add(l)
		}
	}
	p.Locations = locs
	switch m := p.Metadata.(type) {
	case pkg.DpkgDBEntry:
		m.Files = nil
		p.Metadata = m
	case pkg.RpmDBEntry:
		m.Files = nil
		p.Metadata = m
	}
	return p
}

// libLocation is where the library was found: its real path, reached
// through the name the loader opens.
func libLocation(lib *library) file.Location {
	l := file.NewVirtualLocation(lib.Real, lib.Path)
	return l.WithAnnotation(pkg.EvidenceAnnotationKey, pkg.SupportingEvidenceAnnotation)
}

// hasRealPath reports whether a location of set is the file at real (the
// interpreter is often needed by two names, /lib64/… and the multiarch one).
func hasRealPath(set file.LocationSet, real string) bool {
	for _, l := range set.ToSlice() {
		if l.RealPath == real {
			return true
		}
	}
	return false
}

func appendPackage(ps []pkg.Package, p pkg.Package) []pkg.Package {
	for _, q := range ps {
		if q.ID() == p.ID() {
			return ps
		}
	}
	return append(ps, p)
}

// bomRef is the bom-ref syft's CycloneDX encoder gives a package
// (helpers.DeriveBomRef): its purl with a package-id qualifier, or its ID.
func bomRef(p pkg.Package) string {
	if u, err := packageurl.FromString(p.PURL); err == nil {
		u.Qualifiers = append(u.Qualifiers, packageurl.Qualifier{Key: "package-id", Value: string(p.ID())})
		return u.ToString()
	}
	return string(p.ID())
}
