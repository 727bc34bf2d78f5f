// Package input defines each stage's inputs once — the action input name
// (kebab-case, also the CLI flag), default, whether it is required or secret,
// its environment fallback and its description — and resolves their values
// from CLI flags, GitHub Actions' INPUT_* variables, the environment and
// defaults, in that order.
//
// The same table renders action.yml, --help and the README, so they cannot
// drift apart. Secret inputs are never CLI flags: their values must never
// appear in process arguments. This package must never print anything.
package input
