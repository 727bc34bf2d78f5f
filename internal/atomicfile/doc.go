// Package atomicfile writes files so that a reader sees either the old content
// or the complete new content, never a half-written file: it writes to a
// temporary file in the same directory, fsyncs it, renames it over the target
// and fsyncs the directory.
//
// It must never leave its temporary file behind, on success or failure.
package atomicfile
