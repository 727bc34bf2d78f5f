package scan

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anchore/grype/grype/db/v6/name"
	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/match"
	grypepkg "github.com/anchore/grype/grype/pkg"
	"github.com/anchore/grype/grype/search"
	"github.com/anchore/grype/grype/vulnerability"
	"github.com/anchore/syft/syft/pkg"

	// The "sqlite" database/sql driver grype's reader uses too.
	_ "modernc.org/sqlite"
)

// knownNames is grype's v6 vulnerability provider with one shortcut: a
// search by package name that no package record of the database carries
// is answered, empty, without a query. grype's matchers search the database
// once or more per package (affected, unaffected, by the source package),
// and each search is a gorm query SQLite has to parse and plan; in a large
// SBOM most packages have no advisory at all. A name is looked up once, in
// the database's own index (packages.name COLLATE NOCASE, the comparison
// grype's query makes), and remembered.
//
// The answers are grype's: a search is answered here only when grype's
// query would join no package row. The one thing such a query can still
// return is an error from resolving its distribution (before the name is
// compared); so the first search of each distribution goes to grype, and
// only a distribution grype resolved without an error is answered here.
type knownNames struct {
	vulnerability.Provider
	eol  vulnerability.EOLChecker
	db   *sql.DB
	stmt *sql.Stmt

	mu     sync.Mutex
	names  map[string]bool // searched name → a package record has it
	distro map[string]bool // distribution key → grype resolved it without an error
}

// newKnownNames wraps p, grype's provider over the database file. The
// provider is returned as is when it lacks an optional interface grype's
// matchers look for (so wrapping can never change what they see).
func newKnownNames(p vulnerability.Provider, file string) (vulnerability.Provider, error) {
	eol, ok := p.(vulnerability.EOLChecker)
	if !ok {
		return p, nil
	}
	db, err := sql.Open("sqlite", sqliteURI(file))
	if err != nil {
		return nil, err
	}
	stmt, err := db.Prepare("SELECT 1 FROM packages WHERE name = ? COLLATE NOCASE LIMIT 1")
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("preparing the package name lookup: %w", err)
	}
	return &knownNames{Provider: p, eol: eol, db: db, stmt: stmt, names: map[string]bool{}, distro: map[string]bool{}}, nil
}

// sqliteURI is a read-only URI filename for file ('?', '#' and '%' escaped).
func sqliteURI(file string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(file) + "?mode=ro&immutable=1"
}

// GetOperatingSystemEOL is grype's: matchers check end-of-life through it.
func (k *knownNames) GetOperatingSystemEOL(d *distro.Distro) (eol, eoas *time.Time, err error) {
	return k.eol.GetOperatingSystemEOL(d)
}

// Close closes the name lookup and grype's provider.
func (k *knownNames) Close() error {
	err := k.Provider.Close()
	_ = k.stmt.Close()
	if cerr := k.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// FindVulnerabilities answers a search in which every alternative names a
// package no record has (and no CPE), without a query; anything else is
// grype's.
func (k *knownNames) FindVulnerabilities(criteria ...vulnerability.Criteria) ([]vulnerability.Vulnerability, error) {
	if err := search.ValidateCriteria(criteria); err != nil {
		return nil, err
	}
	if k.emptyAll(criteria) {
		return nil, nil
	}
	return k.Provider.FindVulnerabilities(criteria...)
}

// emptyAll reports whether every alternative of criteria is an emptySearch.
func (k *knownNames) emptyAll(criteria []vulnerability.Criteria) bool {
	sets := 0
	for _, set := range search.CriteriaIterator(criteria) {
		if !k.emptySearch(set) {
			return false
		}
		sets++
	}
	return sets > 0
}

// emptySearch reports whether grype's query for one alternative (criteria
// joined by AND) is certain to find nothing: it names a package, no record
// has that name, it searches no CPE, and its distribution (if any) is one
// grype already resolved without an error.
func (k *knownNames) emptySearch(set []vulnerability.Criteria) bool {
	var pkgName, distroKey string
	var pkgType pkg.Type
	var named bool
	for _, c := range set {
		switch c := c.(type) {
		case *search.PackageNameCriteria:
			pkgName, named = c.PackageName, true
		case *search.EcosystemCriteria:
			pkgType = c.PackageType
		case *search.CPECriteria:
			return false
		case *search.DistroCriteria:
			distroKey = distroCriteriaKey(c)
		}
	}
	if !named || pkgName == "" {
		return false
	}
	if distroKey != "" {
		k.mu.Lock()
		ok := k.distro[distroKey]
		k.mu.Unlock()
		if !ok {
			// grype resolves this distribution first; remember that it did.
			if _, err := k.Provider.FindVulnerabilities(set...); err != nil {
				return false
			}
			k.mu.Lock()
			k.distro[distroKey] = true
			k.mu.Unlock()
		}
	}
	// grype's query compares the name as given, normalized for the
	// ecosystem's package type when the search names one.
	for _, n := range []string{pkgName, name.Normalize(pkgName, pkgType)} {
		if known, err := k.known(n); err != nil || known {
			return false // a failed lookup leaves the search to grype
		}
	}
	return true
}

// known reports whether a package record has name n (compared as grype's
// query compares it: COLLATE NOCASE).
func (k *knownNames) known(n string) (bool, error) {
	k.mu.Lock()
	v, ok := k.names[n]
	k.mu.Unlock()
	if ok {
		return v, nil
	}
	var one int
	switch err := k.stmt.QueryRow(n).Scan(&one); err {
	case nil:
		v = true
	case sql.ErrNoRows:
		v = false
	default:
		return false, err
	}
	k.mu.Lock()
	k.names[n] = v
	k.mu.Unlock()
	return v, nil
}

// distroCriteriaKey is everything of a distribution search grype turns into
// its operating system query.
func distroCriteriaKey(c *search.DistroCriteria) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exact=%t", c.Exact)
	for _, d := range c.Distros {
		fmt.Fprintf(&b, "|%q %q %q %q %q %q", d.Name(), d.MajorVersion(), d.MinorVersion(), d.RemainingVersion(), d.LabelVersion(), d.Channels)
	}
	return b.String()
}

// needsGrype returns the packages of pkgs grype has to match, in their
// order: it first runs each package's matchers (grype's choice of them:
// those for its package type, else the stock matcher) with searches the
// shortcut cannot answer answered empty, and keeps a package when any of its
// searches was such a search, or a matcher returned anything (a match, an
// ignore filter, an error) or panicked. For every other package grype's own
// pass would find and filter nothing (every search it makes is answered as
// grype answers it, and matchers keep no state), so leaving it out saves
// grype's per-package work (its ignore rules are indexed anew for every
// package) without changing what it finds.
func (k *knownNames) needsGrype(matchers []match.Matcher, pkgs []grypepkg.Package) []grypepkg.Package {
	byType := map[pkg.Type][]match.Matcher{}
	var stock match.Matcher
	for _, m := range matchers {
		if m.Type() == match.StockMatcher {
			stock = m
			continue
		}
		for _, t := range m.PackageTypes() {
			byType[t] = append(byType[t], m)
		}
	}
	var keep []grypepkg.Package
	for _, p := range pkgs {
		ms, ok := byType[p.Type]
		if !ok {
			ms = []match.Matcher{stock}
		}
		if slices.ContainsFunc(ms, func(m match.Matcher) bool { return m == nil || k.probe(m, p) }) {
			keep = append(keep, p)
		}
	}
	return keep
}

// probe reports whether matcher m needs grype for package p.
func (k *knownNames) probe(m match.Matcher, p grypepkg.Package) (needs bool) {
	defer func() {
		if recover() != nil {
			needs = true
		}
	}()
	pr := &probing{knownNames: k}
	matches, ignores, err := m.Match(pr, p)
	return pr.unanswered || len(matches) > 0 || len(ignores) > 0 || err != nil
}

// probing is the shortcut alone: a search it cannot answer is noted and
// answered empty.
type probing struct {
	*knownNames
	unanswered bool
}

func (p *probing) FindVulnerabilities(criteria ...vulnerability.Criteria) ([]vulnerability.Vulnerability, error) {
	if err := search.ValidateCriteria(criteria); err != nil || !p.emptyAll(criteria) {
		p.unanswered = true
	}
	return nil, nil
}
