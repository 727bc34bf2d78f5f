package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Versions are the API versions whose documents are kept.
var Versions = []string{"v0.0.38", "v0.0.40", "v0.0.41", "v0.0.42"}

type doc struct {
	raw      map[string]any
	compiler *jsonschema.Compiler
	url      string
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

var docs sync.Map // version → *doc (or error)

// Dir is the directory of the documents.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "openapi")
}

func load(version string) (*doc, error) {
	if d, ok := docs.Load(version); ok {
		return d.(*doc), nil
	}
	data, err := os.ReadFile(filepath.Join(Dir(), version+".json"))
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", version, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://slurm.invalid/openapi/" + version + ".json"
	if err := c.AddResource(url, v); err != nil {
		return nil, err
	}
	raw, _ := v.(map[string]any)
	d := &doc{raw: raw, compiler: c, url: url, schemas: map[string]*jsonschema.Schema{}}
	actual, _ := docs.LoadOrStore(version, d)
	return actual.(*doc), nil
}

// Component returns the name of a component schema in version: "job_submit_req"
// is "v0.0.40_job_submit_req" there.
func Component(version, name string) string { return version + "_" + name }

// Validate checks value (a Go value, encoded to JSON first, or JSON bytes)
// against the component schema name of version: for answers, which may carry
// properties a document does not list.
func Validate(t testing.TB, version, name string, value any) {
	t.Helper()
	if err := Check(version, name, value, false); err != nil {
		t.Error(err)
	}
}

// ValidateRequest is Validate for what we send: also no object in value may
// have a property its schema does not declare.
func ValidateRequest(t testing.TB, version, name string, value any) {
	t.Helper()
	if err := Check(version, name, value, true); err != nil {
		t.Error(err)
	}
}

// Check is Validate (strict: ValidateRequest) returning the problem.
func Check(version, name string, value any, strict bool) error {
	d, err := load(version)
	if err != nil {
		return err
	}
	data, ok := value.([]byte)
	if !ok {
		if data, err = json.Marshal(value); err != nil {
			return err
		}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	comp := Component(version, name)
	d.mu.Lock()
	s, ok := d.schemas[comp]
	if !ok {
		s, err = d.compiler.Compile(d.url + "#/components/schemas/" + comp)
		if err == nil {
			d.schemas[comp] = s
		}
	}
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: compiling %s: %w", version, comp, err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s %s: %v", version, comp, err)
	}
	if !strict {
		return nil
	}
	return d.unknown(comp, inst, "")
}

// unknown walks inst along the schema and reports properties it does not declare.
func (d *doc) unknown(comp string, inst any, at string) error {
	s := d.component(comp)
	return d.walk(s, inst, at)
}

func (d *doc) component(name string) map[string]any {
	comps, _ := d.raw["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	s, _ := schemas[name].(map[string]any)
	return s
}

func (d *doc) resolve(s map[string]any) map[string]any {
	for i := 0; s != nil && i < 16; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = d.component(strings.TrimPrefix(ref, "#/components/schemas/"))
	}
	return s
}

func (d *doc) walk(s map[string]any, inst any, at string) error {
	s = d.resolve(s)
	if s == nil {
		return nil
	}
	switch v := inst.(type) {
	case map[string]any:
		props, ok := s["properties"].(map[string]any)
		if !ok {
			return nil // a dictionary (additionalProperties) or free-form object
		}
		for k, child := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				return fmt.Errorf("%s: property %q is not in the schema", at+"/"+k, k)
			}
			if err := d.walk(ps, child, at+"/"+k); err != nil {
				return err
			}
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for i, child := range v {
			if err := d.walk(items, child, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
