// Package interrupt turns SIGINT and SIGTERM into a cancelled context whose
// cause says which signal arrived, so that a command stops what it is doing,
// removes what it had half-written, and reports the interruption with the
// exit code shells use (128 + the signal's number: 130 for SIGINT, 143 for
// SIGTERM).
//
// A second signal, or a command that has not returned within the grace
// period after the first, ends the process at once: the cleanup hook runs
// (it removes temporary files) and the process exits with the code of the
// signal. It must never exit the process for any other reason, nor swallow
// a signal without cancelling the context.
package interrupt
