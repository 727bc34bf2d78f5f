package server

import (
	"fmt"
	"strconv"
	"strings"
)

// parseContentRange reads the Content-Range of an OCI chunk upload: the
// first and last byte offsets of the chunk, inclusive, as the distribution
// spec writes them ("0-1048575"); an HTTP-style "bytes " or "bytes=" prefix
// is accepted too. It returns the chunk's start and length.
func parseContentRange(v string) (start, length int64, err error) {
	s := strings.TrimSpace(v)
	if rest, ok := strings.CutPrefix(s, "bytes"); ok {
		s = strings.TrimLeft(rest, " =")
	}
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("Content-Range %q is not FIRST-LAST: send the chunk's first and last byte offsets, as \"0-1048575\"", v)
	}
	a, err1 := strconv.ParseInt(first, 10, 64)
	b, err2 := strconv.ParseInt(last, 10, 64)
	switch {
	case err1 != nil || err2 != nil || !digits(first) || !digits(last):
		return 0, 0, fmt.Errorf("Content-Range %q: the offsets are not whole numbers: send the chunk's first and last byte offsets, as \"0-1048575\"", v)
	case b < a:
		return 0, 0, fmt.Errorf("Content-Range %q ends before it starts: the last offset is inclusive (a chunk of n bytes at 0 is \"0-(n-1)\")", v)
	}
	return a, b - a + 1, nil
}

// digits reports whether s is only ASCII digits (no sign, no spaces).
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// rangeHeader is the Range an OCI upload answers: "0-<last byte received>",
// and "0-0" when nothing was received yet (as the spec's registries write
// it; the Slipway-Upload-Offset header says which).
func rangeHeader(size int64) string {
	return fmt.Sprintf("0-%d", max(size-1, 0))
}
