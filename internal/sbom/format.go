package sbom

import (
	"fmt"
	"strings"

	"github.com/CycloneDX/cyclonedx-go"
)

// Format is an SBOM document format and its spec version.
type Format struct {
	// Name is "cyclonedx-json" or "spdx-json".
	Name string
	// Version is the spec version: "1.6" or "1.7" for CycloneDX, "2.3" for SPDX.
	Version string
}

// Format names.
const (
	CycloneDXJSON = "cyclonedx-json"
	SPDXJSON      = "spdx-json"
)

// DefaultFormat is CycloneDX 1.6 JSON: the newest CycloneDX version that the
// tools consuming SBOMs widely read.
var DefaultFormat = Format{Name: CycloneDXJSON, Version: "1.6"}

// formats lists the supported formats; the first version of each is its default.
var formats = []struct {
	name     string
	versions []string
}{
	{CycloneDXJSON, []string{"1.6", "1.7"}},
	{SPDXJSON, []string{"2.3"}},
}

// SupportedFormats returns the accepted "format" values.
func SupportedFormats() []string {
	var out []string
	for _, f := range formats {
		out = append(out, f.name)
		for _, v := range f.versions {
			out = append(out, f.name+"@"+v)
		}
	}
	return out
}

// ParseFormat parses the "format" input: "cyclonedx-json" (CycloneDX 1.6),
// "cyclonedx-json@1.7", "spdx-json" (SPDX 2.3), or a name with its version.
// An empty value is the default format.
func ParseFormat(s string) (Format, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return DefaultFormat, nil
	}
	n, v, _ := strings.Cut(s, "@")
	for _, f := range formats {
		if f.name != n {
			continue
		}
		if v == "" {
			return Format{Name: n, Version: f.versions[0]}, nil
		}
		for _, fv := range f.versions {
			if fv == v {
				return Format{Name: n, Version: v}, nil
			}
		}
	}
	return Format{}, fmt.Errorf("format %q is not supported; use one of %s", s, strings.Join(SupportedFormats(), ", "))
}

func (f Format) String() string { return f.Name + "@" + f.Version }

// MediaType is the IANA media type of documents in this format.
func (f Format) MediaType() string {
	if f.Name == SPDXJSON {
		return "application/spdx+json"
	}
	return "application/vnd.cyclonedx+json"
}

// Extension is the file name suffix of documents in this format.
func (f Format) Extension() string {
	if f.Name == SPDXJSON {
		return ".spdx.json"
	}
	return ".cdx.json"
}

// cycloneDXVersion maps a CycloneDX version to cyclonedx-go's.
func (f Format) cycloneDXVersion() cyclonedx.SpecVersion {
	if f.Version == "1.7" {
		return cyclonedx.SpecVersion1_7
	}
	return cyclonedx.SpecVersion1_6
}
