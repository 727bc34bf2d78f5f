package verify

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/policy"
)

// The in-toto statement types accepted: v1, and v0.1 which cosign
// attest-blob still writes.
var statementTypes = []string{"https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"}

const inTotoPayloadType = "application/vnd.in-toto+json"

// statement is an in-toto statement as the DSSE payload carries it.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// checkStatement checks a verified DSSE envelope's statement: that it names
// the subject's digest, that its predicate type is acceptable, and what its
// predicate says (provenance, SBOM binding).
func (v *Verifier) checkStatement(rep *SubjectReport, ev *evidence, payloadType string, payload []byte, sum []byte, s Subject, f *found, times []timeEvidence) {
	if payloadType != inTotoPayloadType {
		rep.fail(CheckPredicate, ev.path, "the DSSE payload type is %q, not an in-toto statement (%s)", payloadType, inTotoPayloadType)
		return
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		rep.fail(CheckPredicate, ev.path, "the DSSE payload is not an in-toto statement: %v", err)
		return
	}
	if !contains(statementTypes, st.Type) || st.PredicateType == "" {
		rep.fail(CheckPredicate, ev.path, "the payload is not an in-toto statement (_type %q, predicateType %q)", st.Type, st.PredicateType)
		return
	}
	want := hex.EncodeToString(sum)
	subjectName, matched := "", false
	for _, sub := range st.Subject {
		if strings.EqualFold(sub.Digest["sha256"], want) {
			subjectName, matched = sub.Name, true
			break
		}
	}
	if !matched {
		var names []string
		for i, sub := range st.Subject {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(st.Subject)-3))
				break
			}
			names = append(names, fmt.Sprintf("%q sha256:%s", sub.Name, sub.Digest["sha256"]))
		}
		rep.fail(CheckDigest, ev.path, "no subject of the %s statement has the subject's sha256:%s (it names %s): it attests other content",
			st.PredicateType, want, strings.Join(names, ", "))
		return
	}
	if subjectName != "" {
		rep.pass(CheckDigest, ev.path, "", "statement subject %q has the subject's sha256:%s", subjectName, want)
	} else {
		rep.pass(CheckDigest, ev.path, "", "a statement subject has the subject's sha256:%s", want)
	}
	f.signed = true
	f.times = append(f.times, times...)
	if st.PredicateType == CosignSignPredicate {
		return // an image signature: nothing is attested
	}

	p := v.policy
	pt, attests := st.PredicateType, st.PredicateType
	var ref *sbomReference
	if pt == policy.SBOMReference {
		if ref = parseSBOMReference(st.Predicate); ref == nil {
			rep.fail(CheckSBOM, ev.path, "the %s predicate has no sbom.digest.sha256 or sbomPredicateType; it is not an SBOM reference", pt)
			return
		}
		if !policy.IsSBOMPredicate(ref.PredicateType) {
			rep.fail(CheckSBOM, ev.path, "the %s predicate claims sbomPredicateType %q, which is not a CycloneDX or SPDX predicate type: an SBOM reference stands only for an SBOM (provenance is a statement of its own predicate type)", pt, ref.PredicateType)
			return
		}
		attests = ref.PredicateType
	}
	if !p.PredicateTypeAllowed(pt) && !p.PredicateTypeAllowed(attests) {
		rep.fail(CheckPredicate, ev.path, "attests predicate type %q, which the policy neither requires nor allows (accepted: %s); add it to allowedPredicateTypes to accept it",
			pt, strings.Join(quoted(p.AcceptedPredicateTypes()), ", "))
		return
	}
	if ref != nil {
		rep.pass(CheckPredicate, ev.path, "", "attests predicate type %q by reference (%s)", attests, pt)
	} else {
		rep.pass(CheckPredicate, ev.path, "", "attests predicate type %q", pt)
	}
	passed := true
	switch {
	case ref != nil:
		passed = v.checkSBOMReference(rep, ev, ref, want, s)
	case pt == policy.SLSAProvenanceV1:
		passed = v.checkProvenance(rep, ev, st.Predicate, f)
	case policy.IsSBOMPredicate(pt):
		passed = v.checkSBOM(rep, ev, pt, st.Predicate, want)
	case pt == policy.TestResultV01:
		passed = v.collectTestResult(rep, ev, st.Predicate, f, times)
	case pt == policy.VulnsV01:
		passed = v.collectVulns(rep, ev, st.Predicate, f, times)
	}
	if !passed {
		return // a required predicate type counts only once its checks passed
	}
	if pt == policy.SLSAProvenanceV1 {
		for _, sub := range st.Subject {
			f.provenance = append(f.provenance, signedSubject{name: sub.Name, sha256: strings.ToLower(sub.Digest["sha256"]), bundle: ev.path})
		}
	}
	for _, t := range []string{pt, attests} {
		if _, ok := f.attestations[t]; !ok {
			f.attestations[t] = ev.path
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoted(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}
