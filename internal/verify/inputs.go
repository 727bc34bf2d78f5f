package verify

import (
	"strconv"
	"strings"
)

// InputRelease is an input release that a verified slurm-dispatch
// provenance names: a resolvedDependencies entry "slipway:release/<id>".
type InputRelease struct {
	ID string
	// ManifestSHA256 is its digest.sha256: the release's manifest digest,
	// lowercase hex.
	ManifestSHA256 string
	// LogIndex is its annotation "logIndex" as written ("" when absent or
	// not a decimal number or string).
	LogIndex string
	// Bundle is the provenance bundle that names it.
	Bundle string
}

// DispatchInputs returns the input releases that the subject's verified
// slurm-dispatch provenance (signed, passing every provenance rule) names,
// and whether any such provenance about the subject was verified (it may
// name no input). The control plane checks them at admission.
func (s *SubjectReport) DispatchInputs() ([]InputRelease, bool) {
	out := make([]InputRelease, 0, len(s.inputs))
	for _, in := range s.inputs {
		out = append(out, InputRelease{ID: in.id, ManifestSHA256: in.manifest, LogIndex: in.logIndex, Bundle: in.bundle})
	}
	return out, s.dispatched
}

// annotationIndex reads a logIndex annotation: a decimal string, or a JSON
// number that is a whole non-negative number.
func annotationIndex(v any) string {
	switch x := v.(type) {
	case string:
		if x != "" && strings.TrimLeft(x, "0123456789") == "" {
			return x
		}
	case float64:
		if x >= 0 && x <= 1<<53 && x == float64(uint64(x)) {
			return strconv.FormatUint(uint64(x), 10)
		}
	}
	return ""
}
