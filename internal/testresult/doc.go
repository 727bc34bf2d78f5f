// Package testresult reads the result files test tools write — JUnit XML
// (pytest --junitxml, ctest --output-junit, Maven Surefire, go-junit-report),
// the test2json event stream of go test -json, and TAP versions 12 to 14 —
// into one list of test cases with their status and, where the report gives
// one, the failing file and line.
//
// It reads from an io.Reader in one streaming pass and keeps only the cases
// and bounded failure messages, never a whole report (CountCases, a cheaper
// first pass over the same file, lets ParseSized allocate a large JUnit
// report's list of cases once). Malformed or truncated
// input is a *ParseError naming the file and the position (line, column or
// byte offset); it must never turn into an empty or partial list of cases
// that looks like a passing run. It knows nothing of files on disk, of
// attestations or of GitHub Actions.
package testresult
