// Package action is the only place that knows how a stage's results reach
// its caller: inside GitHub Actions as workflow commands and environment
// files (outputs in $GITHUB_OUTPUT, a Markdown step summary, ::error file=…::
// annotations, ::add-mask:: for secrets, ::group:: log sections), and on the
// command line as name=value lines and plain text.
//
// Stage packages never import it. It must never write a secret anywhere, and
// never panic when an environment file cannot be written: that is an error.
package action
