package cli

import (
	"slices"
	"testing"

	"github.com/slipway/actions/internal/verify"
)

// A check about evidence covering several subjects (a test result about the
// whole manifest) fails once per subject; the summary names it once, and
// keeps distinct failures in order.
func TestVerifySummaryNamesAFailureOnce(t *testing.T) {
	failed := verify.Check{Check: "tests", Status: verify.Fail, Bundle: "dist/failing.test-result.sigstore.json", Message: "the tests FAILED"}
	other := verify.Check{Check: "digest", Status: verify.Fail, Subject: "out/b", Message: "digest differs"}
	r := &verify.Report{Subjects: []*verify.SubjectReport{
		{Name: "out/a", Checks: []verify.Check{failed}},
		{Name: "out/b", Checks: []verify.Check{failed, other}},
	}}
	got := verifySummary(r).Notes
	want := []string{failed.Line(), other.Line()}
	if !slices.Equal(got, want) {
		t.Fatalf("summary notes:\n%q\nwant\n%q", got, want)
	}
}
