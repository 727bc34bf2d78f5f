package input

import (
	"errors"
	"fmt"
	"strings"
)

// Source is where input values come from.
type Source struct {
	// Flags holds the CLI flags the user set explicitly, by input name.
	Flags map[string]string
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// InActions is true inside GitHub Actions (GITHUB_ACTIONS=true), where
	// INPUT_* variables are read.
	InActions bool
}

// Origin says which source gave an input its value.
type Origin string

// The origins of a value, in the order they are tried.
const (
	FromFlag    Origin = "flag"
	FromAction  Origin = "action input"
	FromEnv     Origin = "environment"
	FromDefault Origin = "default"
)

// Resolved is the outcome of Resolve.
type Resolved struct {
	// Secrets holds the non-empty values of secret inputs, to be masked.
	Secrets []string
	// Origins records where each input's value came from.
	Origins map[string]Origin
}

// Error is a problem with one input's value.
type Error struct {
	Input  string
	Origin Origin
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("input %q (from %s): %v", e.Input, e.Origin, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrRequired is wrapped by the error for a required input with no value.
var ErrRequired = errors.New("required")

// Resolve gives every input its value: an explicit flag, else the action
// input (in Actions; an empty INPUT_* counts as not given, because the runner
// sets one for every declared input), else the environment fallback, else
// the default. It reports every bad input at once.
func Resolve(inputs []Input, src Source) (Resolved, error) {
	res := Resolved{Origins: map[string]Origin{}}
	getenv := src.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var errs []error
	for _, in := range inputs {
		v, origin := lookup(in.Spec, src, getenv)
		res.Origins[in.Name] = origin
		if in.Required && strings.TrimSpace(v) == "" {
			errs = append(errs, &Error{Input: in.Name, Origin: origin, Err: fmt.Errorf("%w: %s", ErrRequired, howToSet(in.Spec))})
			continue
		}
		if in.Secret && v != "" {
			res.Secrets = append(res.Secrets, v)
		}
		if err := in.set(v); err != nil {
			errs = append(errs, &Error{Input: in.Name, Origin: origin, Err: err})
		}
	}
	return res, errors.Join(errs...)
}

func lookup(s Spec, src Source, getenv func(string) string) (string, Origin) {
	if v, ok := src.Flags[s.Name]; ok && !s.Secret {
		return v, FromFlag
	}
	if src.InActions {
		if v := getenv(s.ActionEnv()); strings.TrimSpace(v) != "" {
			if s.Kind == KindList || s.Secret {
				return v, FromAction
			}
			return strings.TrimSpace(v), FromAction
		}
	}
	if s.Env != "" {
		if v := getenv(s.Env); v != "" {
			return v, FromEnv
		}
	}
	return s.Default, FromDefault
}

func howToSet(s Spec) string {
	var ways []string
	if !s.Secret {
		ways = append(ways, fmt.Sprintf("pass --%s", s.Name))
	}
	if s.Env != "" {
		ways = append(ways, fmt.Sprintf("set the environment variable %s", s.Env))
	}
	ways = append(ways, fmt.Sprintf("in a workflow, add \"%s:\" under \"with:\"", s.Name))
	return strings.Join(ways, ", or ")
}
