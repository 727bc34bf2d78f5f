package dashboard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
)

// The release page reads two kinds of evidence the control plane verified
// at admission and keeps: SLSA provenance bundles (for the builder and the
// source commit) and SBOMs (for a summary). Both come from the API as the
// uploader sent them, so their parsers are fuzzed; what they show is read
// only, never trusted for a decision (the checks are the decision).

// provSummary is what the release page shows of a SLSA v1 provenance.
type provSummary struct {
	BuildType string
	Builder   string
	// Source is the source repository, Commit its git commit and Ref the
	// ref (a tag or branch) when the provenance names them.
	Source, Commit, Ref string
}

// maxEvidence bounds a provenance bundle or SBOM the page reads.
const maxEvidence = 64 << 20

// parseProvenance reads a Sigstore bundle (v0.3 JSON) holding a DSSE
// envelope of an in-toto statement whose predicate is SLSA v1 provenance.
func parseProvenance(r io.Reader) (provSummary, error) {
	var out provSummary
	var bundle struct {
		DSSE *struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxEvidence)).Decode(&bundle); err != nil {
		return out, fmt.Errorf("the provenance bundle is not JSON: %v", err)
	}
	if bundle.DSSE == nil {
		return out, errors.New("the provenance bundle has no DSSE envelope")
	}
	payload, err := base64.StdEncoding.DecodeString(bundle.DSSE.Payload)
	if err != nil {
		return out, fmt.Errorf("the provenance bundle's payload is not base64: %v", err)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
		Predicate     struct {
			BuildDefinition struct {
				BuildType            string         `json:"buildType"`
				ExternalParameters   map[string]any `json:"externalParameters"`
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return out, fmt.Errorf("the provenance statement is not JSON: %v", err)
	}
	if !strings.HasPrefix(st.PredicateType, "https://slsa.dev/provenance/v1") {
		return out, fmt.Errorf("the statement's predicate type is %q, not SLSA v1 provenance", st.PredicateType)
	}
	bd := st.Predicate.BuildDefinition
	out.BuildType, out.Builder = bd.BuildType, st.Predicate.RunDetails.Builder.ID
	// The top-level source: by SLSA convention the first git dependency.
	for _, d := range bd.ResolvedDependencies {
		if strings.HasPrefix(d.URI, "git+") || d.Digest["gitCommit"] != "" {
			out.Source, out.Commit = d.URI, d.Digest["gitCommit"]
			if out.Commit == "" {
				out.Commit = d.Digest["sha1"]
			}
			break
		}
	}
	if src, ref, ok := strings.Cut(out.Source, "@"); ok {
		out.Source, out.Ref = src, ref
	}
	if out.Source == "" {
		for _, k := range []string{"repository", "source", "sourceRepository"} {
			if s, ok := bd.ExternalParameters[k].(string); ok && s != "" {
				out.Source = s
				break
			}
		}
	}
	return out, nil
}

// sbomSummary is what the release page shows of an SBOM.
type sbomSummary struct {
	Format     string // "CycloneDX 1.6", "SPDX-2.3"
	Components int
	// Licenses are the components' licenses (SPDX ids, names or
	// expressions), most used first; Unlicensed counts components that
	// state none.
	Licenses   []licenseCount
	Unlicensed int
}

type licenseCount struct {
	License string
	Count   int
}

// parseSBOM reads a CycloneDX or SPDX JSON SBOM with the libraries the
// sbom stage writes them with, telling the two apart by their own fields.
func parseSBOM(r io.Reader) (sbomSummary, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxEvidence+1))
	if err != nil {
		return sbomSummary{}, fmt.Errorf("reading the SBOM: %v", err)
	}
	if len(raw) > maxEvidence {
		return sbomSummary{}, fmt.Errorf("the SBOM is over %d MiB; it is not summarized here", maxEvidence>>20)
	}
	var head struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return sbomSummary{}, fmt.Errorf("the SBOM is not JSON: %v", err)
	}
	counts := map[string]int{}
	var out sbomSummary
	count := func(licenses []string) {
		out.Components++
		if len(licenses) == 0 {
			out.Unlicensed++
		}
		for _, l := range licenses {
			counts[l]++
		}
	}
	switch {
	case head.BOMFormat == "CycloneDX":
		var bom cyclonedx.BOM
		if err := cyclonedx.NewBOMDecoder(bytes.NewReader(raw), cyclonedx.BOMFileFormatJSON).Decode(&bom); err != nil {
			return sbomSummary{}, fmt.Errorf("the CycloneDX SBOM does not parse: %v", err)
		}
		out.Format = "CycloneDX " + bom.SpecVersion.String()
		var walk func([]cyclonedx.Component, int)
		walk = func(cs []cyclonedx.Component, depth int) {
			for _, c := range cs {
				count(cdxLicenses(c.Licenses))
				if c.Components != nil && depth < 64 {
					walk(*c.Components, depth+1)
				}
			}
		}
		if bom.Components != nil {
			walk(*bom.Components, 0)
		}
	case strings.HasPrefix(head.SPDXVersion, "SPDX-"):
		doc, err := spdxjson.Read(bytes.NewReader(raw))
		if err != nil {
			return sbomSummary{}, fmt.Errorf("the SPDX SBOM does not parse: %v", err)
		}
		out.Format = doc.SPDXVersion
		for _, p := range doc.Packages {
			if p == nil {
				continue
			}
			var ls []string
			for _, l := range []string{p.PackageLicenseConcluded, p.PackageLicenseDeclared} {
				if l != "" && l != "NOASSERTION" && l != "NONE" && !slices.Contains(ls, l) {
					ls = append(ls, l)
				}
			}
			if len(ls) > 1 {
				ls = ls[:1] // the concluded license, when both are given
			}
			count(ls)
		}
	default:
		return sbomSummary{}, errors.New("the SBOM is neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON")
	}
	for _, l := range slices.Sorted(maps.Keys(counts)) {
		out.Licenses = append(out.Licenses, licenseCount{License: l, Count: counts[l]})
	}
	slices.SortStableFunc(out.Licenses, func(a, b licenseCount) int { return b.Count - a.Count })
	return out, nil
}

// cdxLicenses are a CycloneDX component's licenses: ids, else names, or
// expressions.
func cdxLicenses(ls *cyclonedx.Licenses) []string {
	if ls == nil {
		return nil
	}
	var out []string
	for _, l := range *ls {
		var s string
		switch {
		case l.License != nil && l.License.ID != "":
			s = l.License.ID
		case l.License != nil && l.License.Name != "":
			s = l.License.Name
		default:
			s = l.Expression
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// summaries caches what the release page parsed, by the file's digest
// (content-addressed, so an entry never goes stale), bounded: the oldest
// entries go first.
type summaries struct {
	mu    sync.Mutex
	m     map[string]any
	order []string
	max   int
}

func newSummaries(max int) *summaries { return &summaries{m: map[string]any{}, max: max} }

func (c *summaries) get(digest string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[digest]
	return v, ok
}

func (c *summaries) put(digest string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[digest]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[digest] = v
	c.order = append(c.order, digest)
}
