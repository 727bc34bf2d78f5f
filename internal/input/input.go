package input

import (
	"fmt"
	"strings"
	"time"
)

// Kind is the type of an input's value.
type Kind int

// Kinds of inputs.
const (
	KindString Kind = iota
	KindBool
	KindList // newline- or comma-separated
	KindDuration
)

// Spec describes one input.
type Spec struct {
	// Name is the action input name and the CLI flag, in kebab-case.
	Name string
	// Description is one sentence for action.yml, --help and the README.
	Description string
	// Default is the value used when no source gives one.
	Default string
	// ActionDefault, when set, is the default written into action.yml
	// instead of Default: an expression the runner evaluates, such as
	// "${{ job.workflow_ref }}", that has no meaning on the command line.
	ActionDefault string
	// Required inputs must get a non-empty value from some source.
	Required bool
	// Secret inputs are masked in Actions logs and are never CLI flags.
	Secret bool
	// Env is an environment variable read when neither a flag nor an
	// action input gives a value (and the only CLI source of a secret).
	Env string
	// Kind is the value's type.
	Kind Kind
}

// ActionEnv returns the variable GitHub Actions sets for this input:
// INPUT_ and the name in upper case, spaces replaced by underscores and
// hyphens kept (as the runner and act do).
func (s Spec) ActionEnv() string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(s.Name, " ", "_"))
}

// Input is a Spec bound to the option field that receives its value.
type Input struct {
	Spec
	set func(string) error
}

// String binds a string input to p.
func String(p *string, s Spec) Input {
	s.Kind = KindString
	return Input{Spec: s, set: func(v string) error { *p = v; return nil }}
}

// Bool binds a boolean input to p. It accepts the YAML 1.2 core booleans
// (true/false in any case) and 1/0.
func Bool(p *bool, s Spec) Input {
	s.Kind = KindBool
	return Input{Spec: s, set: func(v string) error {
		b, err := ParseBool(v)
		if err != nil {
			return err
		}
		*p = b
		return nil
	}}
}

// List binds a list input to p: items are separated by newlines or commas,
// trimmed, and empty items dropped.
func List(p *[]string, s Spec) Input {
	s.Kind = KindList
	return Input{Spec: s, set: func(v string) error { *p = SplitList(v); return nil }}
}

// Duration binds a duration input (Go syntax, "90s", "24h") to p.
func Duration(p *time.Duration, s Spec) Input {
	s.Kind = KindDuration
	return Input{Spec: s, set: func(v string) error {
		if v == "" {
			*p = 0
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration; write it like \"90s\", \"30m\" or \"720h\"", v)
		}
		*p = d
		return nil
	}}
}

// ParseBool parses an input boolean.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use \"true\" or \"false\"", v)
}

// SplitList splits a list input on newlines and commas.
func SplitList(v string) []string {
	var out []string
	for _, line := range strings.Split(v, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// Output describes one output of a stage.
type Output struct {
	Name        string
	Description string
}

// Raw binds an input of any kind to p as the raw string value, checked for
// its kind but not converted: for code that forwards inputs to other
// commands, such as the pipeline.
func Raw(p *string, s Spec) Input {
	check := Input{Spec: s}
	switch s.Kind {
	case KindBool:
		check = Bool(new(bool), s)
	case KindDuration:
		check = Duration(new(time.Duration), s)
	}
	return Input{Spec: s, set: func(v string) error {
		if check.set != nil {
			if err := check.set(v); err != nil {
				return err
			}
		}
		*p = v
		return nil
	}}
}
