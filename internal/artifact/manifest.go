package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// ManifestMediaType identifies a serialized artifact set.
const ManifestMediaType = "application/vnd.slipway.artifacts.v1+json"

// Manifest is the artifact set as written between stages, jobs and machines.
type Manifest struct {
	MediaType string `json:"mediaType"`
	// Build records how the artifacts were made; nil when unknown.
	Build   *BuildInfo `json:"build,omitempty"`
	Records []Record   `json:"artifacts"`
}

// NewManifest returns an empty manifest.
func NewManifest() *Manifest { return &Manifest{MediaType: ManifestMediaType} }

// Add appends r, replacing an earlier record with the same name and role.
func (m *Manifest) Add(r Record) {
	for i, old := range m.Records {
		if old.Name == r.Name && old.Role == r.Role {
			m.Records[i] = r
			return
		}
	}
	m.Records = append(m.Records, r)
}

// ByRole returns the records with role r, in manifest order.
func (m *Manifest) ByRole(r Role) []Record {
	var out []Record
	for _, rec := range m.Records {
		if rec.Role == r {
			out = append(out, rec)
		}
	}
	return out
}

// Describing returns the records that describe the artifact with digest d.
func (m *Manifest) Describing(d digest.SHA256) []Record {
	var out []Record
	for _, rec := range m.Records {
		if rec.Describes == d {
			out = append(out, rec)
		}
	}
	return out
}

// Subjects returns the artifacts as subjects (name and digest).
func (m *Manifest) Subjects() []Subject {
	var out []Subject
	for _, r := range m.ByRole(RoleArtifact) {
		out = append(out, Subject{Name: r.Name, Digest: r.Digest})
	}
	return out
}

// Validate checks every record.
func (m *Manifest) Validate() error {
	if m.MediaType != ManifestMediaType {
		return fmt.Errorf("field \"mediaType\" is %q, want %q", m.MediaType, ManifestMediaType)
	}
	seen := map[Role]map[string]int{}
	for i, r := range m.Records {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("artifacts[%d]: %w", i, err)
		}
		if seen[r.Role] == nil {
			seen[r.Role] = map[string]int{}
		}
		if j, dup := seen[r.Role][r.Name]; dup {
			return fmt.Errorf("artifacts[%d]: record %q: another %s record, artifacts[%d], has the same name; each name appears once per role", i, r.Name, r.Role, j)
		}
		seen[r.Role][r.Name] = i
	}
	return nil
}

// Decode reads and validates a manifest; name is used in errors.
func Decode(r io.Reader, name string) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("parsing manifest %q at byte %d: %w; the file must be a manifest written by \"slipway build\"", name, se.Offset, err)
		}
		return nil, fmt.Errorf("parsing manifest %q: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parsing manifest %q: data follows the manifest's JSON object at byte %d; the file must hold one manifest written by \"slipway build\"", name, dec.InputOffset())
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("manifest %q: %w", name, err)
	}
	return &m, nil
}

// MaxManifestSize bounds a manifest file: some hundred thousand records.
const MaxManifestSize = 64 << 20

// ReadManifest reads and validates the manifest file at path. Only a
// regular file of at most MaxManifestSize bytes is read: a FIFO or a device
// is refused at once.
func ReadManifest(path string) (*Manifest, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening manifest: %w", err)
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: MaxManifestSize + 1}
	m, err := Decode(lr, path)
	if lr.N <= 0 {
		return nil, fmt.Errorf("manifest %q: %w; is this a manifest written by \"slipway build\"?", path, &regfile.TooLargeError{Path: path, Limit: MaxManifestSize})
	}
	return m, err
}

// WriteFile writes the manifest atomically to path, once it is valid: a
// stage never writes a manifest that the next one refuses.
func (m *Manifest) WriteFile(path string) error {
	if m.MediaType == "" {
		m.MediaType = ManifestMediaType
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("the manifest to write is not valid: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}
