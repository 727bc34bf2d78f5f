// Package exitcode names the process exit codes of slipway and the typed
// error that carries one from a stage to main.
//
// Stage packages wrap their errors with Failure, BadInput or Infra so that the
// command layer can map them to a code and an annotation without parsing
// messages. It must never print anything or call os.Exit itself.
package exitcode
