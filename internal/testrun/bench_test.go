package testrun

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkTestRun10000 is what slipway test does after the test command
// of the bar: read a 10,000-case JUnit report (100 failures),
// make the statement, sign it with a cosign key (loaded once, as a run
// loads it while the tests run) and record it in the manifest.
func BenchmarkTestRun10000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("<testsuites>\n")
	for s := 0; s < 100; s++ {
		fmt.Fprintf(&sb, "<testsuite name=\"suite%d\" failures=\"1\">\n", s)
		for c := 0; c < 100; c++ {
			fmt.Fprintf(&sb, "<testcase classname=\"tests.test_module_%d\" name=\"test_case_%d\" time=\"0.001\">", s, c)
			if c == 99 {
				sb.WriteString("<failure message=\"AssertionError: assert 3 == 4\">tests/test_module.py:12: AssertionError</failure>")
			}
			sb.WriteString("</testcase>\n")
		}
		sb.WriteString("</testsuite>\n")
	}
	sb.WriteString("</testsuites>\n")
	w := benchWorkspace(b)
	w.file(b, "reports/junit.xml", sb.String())
	o := Options{Workspace: w.dir, Manifest: "dist/manifest.json", Results: []string{"reports/junit.xml"}, Signer: testSigner(b), Getenv: env(nil)}
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(context.Background(), o)
		if err != nil || res.Passed != 9900 || res.Failed != 100 {
			b.Fatalf("Run() = %+v, %v", res, err)
		}
	}
}
