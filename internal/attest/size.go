package attest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultSBOMInlineLimit is the default sbom-inline-limit: SBOMs up to 8 MiB
// are inlined into their statement.
const DefaultSBOMInlineLimit = 8 << 20

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1}, {"", 1},
}

// ParseSize parses a byte size: a whole number with an optional unit, B,
// KiB/MiB/GiB/TiB (powers of 1024, also written K, M, G, T) or KB/MB/GB/TB
// (powers of 1000), in any case: "8MiB", "500k", "1048576".
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range sizeUnits {
		if !strings.HasSuffix(t, u.suffix) {
			continue
		}
		num := strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 {
			break
		}
		if n > math.MaxInt64/u.mult {
			return 0, fmt.Errorf("size %q is too large; the largest is %d bytes", s, int64(math.MaxInt64))
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("size %q is not a whole number of bytes with an optional unit; write it like \"8MiB\", \"500KB\" or \"1048576\"", s)
}
