package input

import (
	"fmt"

	"github.com/spf13/pflag"
)

// rawValue is a pflag.Value that keeps the string the user typed; parsing
// happens in Resolve so that flags, action inputs and environment variables
// are checked by the same code.
type rawValue struct {
	v    string
	kind Kind
}

func (r *rawValue) String() string { return r.v }
func (r *rawValue) Set(v string) error {
	if r.kind == KindBool {
		if _, err := ParseBool(v); err != nil {
			return err
		}
	}
	if r.kind == KindList && r.v != "" {
		// A repeated list flag adds items: --artifacts a --artifacts b.
		r.v += "\n" + v
		return nil
	}
	r.v = v
	return nil
}
func (r *rawValue) Type() string {
	switch r.kind {
	case KindBool:
		return "bool"
	case KindList:
		return "list"
	case KindDuration:
		return "duration"
	}
	return "string"
}

// AddFlags registers one flag per non-secret input on fs. The help text
// gives the description, the environment fallback and whether the input is
// required; the default is shown by pflag.
func AddFlags(fs *pflag.FlagSet, inputs []Input) {
	for _, in := range inputs {
		if in.Secret {
			continue
		}
		f := fs.VarPF(&rawValue{v: in.Default, kind: in.Kind}, in.Name, "", FlagUsage(in.Spec))
		if in.Kind == KindBool {
			f.NoOptDefVal = "true"
		}
	}
}

// FlagUsage is the --help line of an input.
func FlagUsage(s Spec) string {
	u := s.Description
	if s.Env != "" {
		u += fmt.Sprintf(" (env %s)", s.Env)
	}
	if s.Required {
		u += " [required]"
	}
	return u
}

// Changed returns the flags the user set explicitly, by input name.
func Changed(fs *pflag.FlagSet, inputs []Input) map[string]string {
	out := map[string]string{}
	for _, in := range inputs {
		if f := fs.Lookup(in.Name); f != nil && f.Changed {
			out[in.Name] = f.Value.String()
		}
	}
	return out
}
