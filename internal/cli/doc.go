// Package cli wires slipway's stages to the command line and to GitHub
// Actions: it turns each stage's input table into flags, action.yml and
// README documentation, resolves inputs, runs the stage and reports its
// outputs, summary and errors through package action.
//
// It holds wiring only. What a stage does lives in the stage's own package
// under internal/, which knows nothing of flags or GitHub Actions.
package cli
