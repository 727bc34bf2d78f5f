// Package regfile opens files that Slipway reads as evidence or input
// (subjects, bundles, SBOMs, policies, manifests) and refuses anything that
// is not a regular file: a FIFO would block the open or the read forever, a
// device such as /dev/zero never ends, a directory is not a document.
//
// Open never blocks on a FIFO: it opens without waiting for a writer, looks
// at what it got, and only then hands back a blocking file. It must never
// read from anything it has not first checked to be a regular file.
package regfile
