package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/vulnerability"
	"github.com/spf13/afero"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
)

// DefaultMaxDBAge is the oldest database Open accepts by default: grype's
// own limit (its db.max-allowed-built-age), so that a database grype would
// refuse as stale is refused here too.
const DefaultMaxDBAge = 5 * 24 * time.Hour

// dbFix is what every database error tells the user to do.
const dbFix = "import a current grype v6 database there (on a connected machine: grype db update, or grype db download and copy the archive; then grype db import ARCHIVE; see docs/scan.md)"

// DBInfo is what the statement records of the database a scan used.
type DBInfo struct {
	// Dir is the directory holding vulnerability.db and import.json.
	Dir string
	// SchemaVersion is the database's schema, e.g. "v6.1.10".
	SchemaVersion string
	// Built is when the database was built: its data is as of then.
	Built time.Time
	// Source is where it was imported from (import.json), when recorded.
	Source string
	// Digest is the database file's checksum as import.json records it
	// (and Open checked it), "xxh64:HEX".
	Digest string
}

// URI is the database's identity for the statement's scanner.db.uri: the
// address it was imported from, or, for a database imported from a local
// file, its checksum.
func (d DBInfo) URI() string {
	if isURL(d.Source) {
		return d.Source
	}
	return "pkg:generic/grype-db@" + d.Digest
}

// Version is the statement's scanner.db.version: the schema and the build
// time, which together name one published database.
func (d DBInfo) Version() string {
	return d.SchemaVersion + "+" + d.Built.UTC().Format("20060102T150405Z")
}

func isURL(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			return i > 0 && len(s) > i+2 && s[i+1:i+3] == "//"
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return false
}

// DB is an open vulnerability database.
type DB struct {
	Info     DBInfo
	provider vulnerability.Provider
}

// Close releases the database.
func (d *DB) Close() error { return d.provider.Close() }

// DBOptions says which database to open and how old it may be.
type DBOptions struct {
	// Path is the database directory (holding vulnerability.db and
	// import.json, as grype db import leaves it), grype's cache root (the
	// directory holding 6/), or the vulnerability.db file itself.
	Path string
	// MaxAge is the oldest build time accepted; zero means DefaultMaxDBAge,
	// negative accepts any age.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// OpenDB opens the database at o.Path for reading after checking, in this
// order, that it exists, that its checksum matches import.json (a truncated
// or changed file is refused before SQLite reads it), that its schema is v6,
// and that it is not older than o.MaxAge. Every error names the file and
// says what to do.
func OpenDB(o DBOptions) (*DB, error) {
	dir, file, err := locateDB(o.Path)
	if err != nil {
		return nil, err
	}
	osfs := afero.NewOsFs()
	im, err := v6.ReadImportMetadata(osfs, dir)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q: reading %s: %v; %s", o.Path, v6.ImportMetadataFileName, err, dbFix), filepath.Join(dir, v6.ImportMetadataFileName))
	}
	sum, err := v6.CalculateDBDigest(osfs, file)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("vulnerability database %q: %w", file, err)), file)
	}
	if sum != im.Digest {
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q is corrupt or was changed after it was imported: its checksum is %s, %s records %s; %s", file, sum, v6.ImportMetadataFileName, im.Digest, dbFix), file)
	}
	rdr, err := v6.NewReader(v6.Config{DBDirPath: dir})
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q is not a grype schema v%d database: %v; %s", file, v6.ModelVersion, err, dbFix), file)
	}
	meta, err := rdr.GetDBMetadata()
	if err != nil || meta == nil || meta.BuildTimestamp == nil {
		_ = rdr.Close()
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q has no readable build metadata (%v); %s", file, err, dbFix), file)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	maxAge := o.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxDBAge
	}
	desc := v6.DescriptionFromMetadata(meta)
	built := desc.Built.Time.UTC()
	if age := now().Sub(built); maxAge > 0 && age > maxAge {
		_ = rdr.Close()
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q was built %s (%s ago), older than the %s allowed; %s, or allow an older one with db-max-age", file, built.Format(time.RFC3339), age.Round(time.Minute), maxAge, dbFix), file)
	}
	provider, err := newKnownNames(v6.NewVulnerabilityProvider(rdr), file)
	if err != nil {
		_ = rdr.Close()
		return nil, exitcode.WithFile(exitcode.BadInputf("vulnerability database %q: %v; %s", file, err, dbFix), file)
	}
	return &DB{
		Info:     DBInfo{Dir: dir, SchemaVersion: desc.SchemaVersion.String(), Built: built, Source: im.Source, Digest: im.Digest},
		provider: provider,
	}, nil
}

// locateDB finds the database directory and file that path names.
func locateDB(path string) (dir, file string, err error) {
	if path == "" {
		return "", "", exitcode.BadInputf("no vulnerability database given; set db to the directory holding vulnerability.db; %s", dbFix)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", exitcode.WithFile(exitcode.BadInputf("vulnerability database %q does not exist; %s", path, dbFix), path)
	case err != nil:
		return "", "", exitcode.WithFile(exitcode.Infra(fmt.Errorf("vulnerability database %q: %w", path, err)), path)
	case fi.IsDir():
		dir = path
		if _, err := os.Stat(filepath.Join(dir, v6.VulnerabilityDBFileName)); errors.Is(err, fs.ErrNotExist) {
			// grype's cache root (GRYPE_DB_CACHE_DIR) keeps schema v6 in 6/.
			if _, err := os.Stat(filepath.Join(dir, "6", v6.VulnerabilityDBFileName)); err == nil {
				dir = filepath.Join(dir, "6")
			}
		}
		file = filepath.Join(dir, v6.VulnerabilityDBFileName)
	default:
		dir, file = filepath.Dir(path), path
	}
	if err := regfile.Check(file); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", exitcode.WithFile(exitcode.BadInputf("vulnerability database %q: no %s in it; %s", path, v6.VulnerabilityDBFileName, dbFix), file)
		}
		return "", "", exitcode.WithFile(exitcode.BadInputf("vulnerability database %q: %v; %s", path, err, dbFix), file)
	}
	return dir, file, nil
}
