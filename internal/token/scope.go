package token

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is one thing a token may do.
type Scope string

// The scopes. Admin does not imply the others: a token gets exactly the
// scopes it was made with.
const (
	Upload   Scope = "upload"   // submit releases for admission
	Read     Scope = "read"     // read releases, artifacts and receipts
	Dispatch Scope = "dispatch" // hand admitted releases to the cluster
	Admin    Scope = "admin"    // manage the server
)

// Scopes is every scope, in a fixed order.
var Scopes = []Scope{Upload, Read, Dispatch, Admin}

// ParseScopes checks names against the known scopes and returns them
// without duplicates, in the order of Scopes.
func ParseScopes(names []string) ([]Scope, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("a token needs at least one scope; give --scope with some of %s", scopeList())
	}
	var out []Scope
	for _, n := range names {
		s := Scope(strings.TrimSpace(n))
		if !slices.Contains(Scopes, s) {
			return nil, fmt.Errorf("unknown scope %q; use some of %s", n, scopeList())
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

func scopeList() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
