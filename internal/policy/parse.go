package policy

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/slipway/actions/internal/regfile"
)

// MaxPolicySize bounds a policy file; MaxFileSize bounds each file it names
// (a key, a key ring, a trusted root).
const (
	MaxPolicySize = 1 << 20
	MaxFileSize   = 8 << 20
)

// Error is one problem in a policy: where it is and what to do about it.
type Error struct {
	// File is the policy file (or the name given to Parse).
	File string
	// Line and Column locate the problem in File; 0 when unknown.
	Line, Column int
	// Field is the path of the field, such as "keys[0].path"; "" for the
	// document as a whole.
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Options say where a policy comes from when it is not read by Load.
type Options struct {
	// Name identifies the policy in errors (a path or a description).
	Name string
	// Dir is the directory relative paths in the policy are resolved
	// against. Load uses the policy file's directory.
	Dir string
	// ReadFile reads a file the policy names; regfile.ReadAll (regular
	// files only, with a size limit) when nil. The control plane can serve files from elsewhere.
	ReadFile func(path string) ([]byte, error)
}

// Load reads, parses and validates the policy file at path, loading the
// files it names relative to its directory.
func Load(path string) (*Policy, error) {
	data, err := readLimited(path, MaxPolicySize)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("reading the policy: %v; pass the path of a TrustPolicy YAML file (see docs/policy.md)", err)}
	}
	return Parse(data, Options{Name: path, Dir: filepath.Dir(path)})
}

// Parse parses and validates a policy document. Every problem found is
// reported, each as an *Error, joined.
func Parse(data []byte, o Options) (*Policy, error) {
	if o.Name == "" {
		o.Name = "policy"
	}
	if o.ReadFile == nil {
		o.ReadFile = func(p string) ([]byte, error) { return readLimited(p, MaxFileSize) }
	}
	if len(data) > MaxPolicySize {
		return nil, &Error{File: o.Name, Msg: fmt.Sprintf("the policy is %d bytes, more than %d; is this a trust policy?", len(data), MaxPolicySize)}
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(o.Name, err)
	}
	if n := countDocs(file); n != 1 {
		return nil, &Error{File: o.Name, Msg: fmt.Sprintf("the file holds %d YAML documents, want exactly one TrustPolicy", n)}
	}
	if e := findAlias(file); e != nil {
		e.File = o.Name
		return nil, e
	}
	var doc document
	if err := decode(data, &doc); err != nil {
		return nil, yamlError(o.Name, err)
	}
	c := &compiler{opts: o, file: file}
	p := c.compile(&doc)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return p, nil
}

// decode decodes strictly. The YAML library can panic on some malformed
// documents (found by FuzzParse); that is reported as an error instead.
func decode(data []byte, doc *document) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML does not decode (%v)", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, doc, yaml.Strict())
}

// findAlias reports the first anchor or alias: a policy has no use for
// them, and aliases nested in aliases expand exponentially.
func findAlias(f *ast.File) *Error {
	v := &aliasFinder{}
	for _, d := range f.Docs {
		if d.Body != nil {
			ast.Walk(v, d.Body)
		}
	}
	return v.found
}

type aliasFinder struct{ found *Error }

func (v *aliasFinder) Visit(n ast.Node) ast.Visitor {
	if v.found != nil {
		return nil
	}
	switch n.Type() {
	case ast.AnchorType, ast.AliasType:
		v.found = &Error{Msg: "YAML anchors and aliases are not allowed in a trust policy; write each value out"}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			v.found.Line, v.found.Column = tk.Position.Line, tk.Position.Column
		}
		return nil
	}
	return v
}

func countDocs(f *ast.File) int {
	n := 0
	for _, d := range f.Docs {
		if d.Body != nil {
			n++
		}
	}
	return n
}

// yamlError turns a YAML decoding error into an Error with its position.
func yamlError(name string, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{File: name, Msg: fmt.Sprintf("%v; the policy must be a YAML mapping (see docs/policy.md)", err)}
	}
	e := &Error{File: name, Msg: ye.GetMessage()}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Column = tk.Position.Line, tk.Position.Column
	}
	var unknown *yaml.UnknownFieldError
	switch {
	case errors.As(err, &unknown):
		e.Msg += "; remove it or fix its spelling (docs/policy.md lists every field)"
	default:
		e.Msg += "; see docs/policy.md for the expected form"
	}
	return e
}

// readLimited reads a whole small regular file, refusing one larger than
// limit, and a FIFO or device (which could block or never end) at once.
func readLimited(path string, limit int64) ([]byte, error) {
	return regfile.ReadAll(path, limit)
}

// position returns the line and column of the field at path ("keys[0].pem"),
// or of its nearest enclosing field present in the document.
func position(file *ast.File, field string) (line, col int) {
	defer func() {
		if recover() != nil {
			line, col = 0, 0
		}
	}()
	for field != "" {
		if p, err := yaml.PathString("$." + field); err == nil {
			if n, err := p.FilterFile(file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0, 0
}
