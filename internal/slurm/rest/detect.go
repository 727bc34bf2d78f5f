package rest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
)

// api returns the API version to use, detecting it once when not configured.
func (b *Backend) api(ctx context.Context) (string, error) {
	if b.err != nil {
		return "", b.err
	}
	b.mu.Lock()
	v := b.version
	b.mu.Unlock()
	if v != "" {
		return v, nil
	}
	a, err := b.do(ctx, "GET", "/openapi/v3", nil, maxOpenAPI)
	if err != nil {
		return "", err
	}
	if err := b.check("GET /openapi/v3", a); err != nil {
		return "", err
	}
	served, err := servedVersions(a.body)
	if err != nil {
		return "", exitcode.Infraf("slurm: detecting slurmrestd's API version from GET /openapi/v3: %v: set the API version (one of %s) instead", err, strings.Join(Versions, ", "))
	}
	for i := len(Versions) - 1; i >= 0; i-- {
		if slices.Contains(served, Versions[i]) {
			b.mu.Lock()
			b.version = Versions[i]
			b.mu.Unlock()
			return Versions[i], nil
		}
	}
	return "", exitcode.Infraf("slurm: slurmrestd serves %s, none of which Slipway speaks (%s): start it with -s openapi/%s (or the data_parser of that version)",
		strings.Join(served, ", "), strings.Join(Versions, ", "), Versions[len(Versions)-1])
}

// servedVersions reads the /slurm/vX.Y.Z/ versions an OpenAPI document has paths for.
func servedVersions(doc []byte) ([]string, error) {
	var d struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	if len(d.Paths) == 0 {
		return nil, errNoVersion
	}
	var out []string
	for p := range d.Paths {
		rest, ok := strings.CutPrefix(p, "/slurm/")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, "/")
		if strings.HasPrefix(v, "v0.0.") && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil, errNoVersion
	}
	return out, nil
}
