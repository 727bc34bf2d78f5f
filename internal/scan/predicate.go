package scan

import (
	"bytes"
	"encoding/json"
	"time"
)

// PredicateType is the in-toto vulns predicate (spec/predicates/vuln.md,
// version 0.1) the statement carries.
const PredicateType = "https://in-toto.io/attestation/vulns/v0.1"

// grypeModule is the matcher's Go module: the statement names it.
const grypeModule = "github.com/anchore/grype"

// The predicate's JSON shape, exactly as the spec and API9.md give it.
type (
	predicate struct {
		Scanner  scanner  `json:"scanner"`
		Metadata metadata `json:"metadata"`
	}
	scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version,omitempty"`
		DB      db     `json:"db"`
		// Result is required; an empty list means no finding.
		Result []result `json:"result"`
	}
	db struct {
		URI        string `json:"uri,omitempty"`
		Version    string `json:"version,omitempty"`
		LastUpdate string `json:"lastUpdate"`
	}
	result struct {
		ID          string              `json:"id"`
		Severity    []severity          `json:"severity"`
		Annotations []map[string]string `json:"annotations,omitempty"`
	}
	severity struct {
		Method string `json:"method"`
		Score  string `json:"score"`
	}
	metadata struct {
		ScanStartedOn  string `json:"scanStartedOn"`
		ScanFinishedOn string `json:"scanFinishedOn"`
	}
)

// grypeVersion is the version of grype go.mod requires; TestGrypeVersion
// keeps the two equal (a test binary's build information lists no module
// versions, so it cannot be read at run time everywhere).
const grypeVersion = "v0.121.3"

// ScannerVersion is the version of grype linked into this binary.
func ScannerVersion() string { return grypeVersion }

// ScannerURI names the scanner as a purl of its Go module.
func ScannerURI() string { return "pkg:golang/" + grypeModule + "@" + ScannerVersion() }

// Predicate is the vulns predicate of r: the scanner (grype, as linked),
// the database (its identity, schema and build time as lastUpdate), one
// result per finding (id; severity with the data source as method and its
// rating, lower-cased, as score; annotations: the package's purl, each
// fixed-in version and each artifact whose SBOM lists the package), and when
// the scan started and finished.
func (r *Result) Predicate() ([]byte, error) {
	p := predicate{
		Scanner: scanner{
			URI:     ScannerURI(),
			Version: ScannerVersion(),
			DB: db{URI: r.DB.URI(), Version: r.DB.Version(),
				LastUpdate: r.DB.Built.UTC().Format(time.RFC3339)},
			Result: make([]result, 0, len(r.Findings)),
		},
		Metadata: metadata{
			ScanStartedOn:  r.Started.UTC().Format(time.RFC3339Nano),
			ScanFinishedOn: r.Finished.UTC().Format(time.RFC3339Nano),
		},
	}
	for _, f := range r.Findings {
		res := result{
			ID:          f.ID,
			Severity:    []severity{{Method: f.method(), Score: f.Severity}},
			Annotations: []map[string]string{{"package": f.Package.ID()}},
		}
		for _, v := range f.FixedIn {
			res.Annotations = append(res.Annotations, map[string]string{"fixedIn": v})
		}
		for _, s := range f.Subjects {
			res.Annotations = append(res.Annotations, map[string]string{"subject": s})
		}
		p.Scanner.Result = append(p.Scanner.Result, res)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // purls keep their "&"
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// method is the severity's method: the data source that rated it.
func (f Finding) method() string {
	if f.Namespace == "" {
		return "grype"
	}
	return f.Namespace
}
