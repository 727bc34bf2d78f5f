package upload

import (
	"fmt"
	"strconv"
	"strings"
)

// parseRange reads the Range header of an upload location's answer,
// "0-<last byte received>" as the OCI distribution spec writes it (some
// registries prefix "bytes="), and returns the last byte's offset. The
// spec writes "0-0" both for nothing and for one byte received; callers
// read it as nothing and learn otherwise from a 416 (see nextOffset).
func parseRange(h string) (int64, error) {
	s := strings.TrimPrefix(strings.TrimSpace(h), "bytes=")
	first, last, ok := strings.Cut(s, "-")
	if !ok || first != "0" || last == "" || len(last) > 19 {
		return 0, fmt.Errorf("the upload's Range header %q is not \"0-<last byte>\"", clean(trimTo(h, 64)))
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("the upload's Range header %q is not \"0-<last byte>\"", clean(trimTo(h, 64)))
		}
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the upload's Range header %q is out of range", clean(trimTo(h, 64)))
	}
	return n, nil
}

// received is how many bytes a Range header of last byte last says the
// server holds: "0-0" counts as none.
func received(last int64) int64 {
	if last == 0 {
		return 0
	}
	return last + 1
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
