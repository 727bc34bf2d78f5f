// Package mediatype names the media type of an artifact from its file name
// and its first bytes.
//
// It must never open or read a file: callers hand it the first bytes they
// already read while digesting, so that detection costs no second pass.
package mediatype
