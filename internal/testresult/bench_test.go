package testresult

import (
	"bytes"
	"fmt"
	"testing"
)

// JUnitReport is a JUnit XML report of n cases in suites of 100, one case
// in a hundred failing with a pytest-sized message, as pytest writes them:
// the input of the performance bar (a 10,000-case JUnit file).
func JUnitReport(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<testsuites>\n")
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			if i > 0 {
				b.WriteString("</testsuite>\n")
			}
			fmt.Fprintf(&b, `<testsuite name="suite%d" errors="0" failures="%d" skipped="0" tests="100" time="1.0" timestamp="2026-12-05T08:00:00" hostname="runner">`+"\n", i/100, min(1, n-i-1))
		}
		fmt.Fprintf(&b, `<testcase classname="tests.test_module_%d" name="test_case_%d[param-%d]" time="0.001">`, i/100, i, i%7)
		if i%100 == 99 {
			b.WriteString(`<failure message="AssertionError: assert 3 == 4">def test_case():
&gt;       assert compute() == 4
E       AssertionError: assert 3 == 4

tests/test_module.py:12: AssertionError</failure>`)
		}
		b.WriteString("</testcase>\n")
	}
	b.WriteString("</testsuite>\n</testsuites>\n")
	return b.Bytes()
}

// BenchmarkJUnit10000 parses a 10,000-case JUnit report.
func BenchmarkJUnit10000(b *testing.B) {
	in := JUnitReport(10000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Parse("bench.xml", bytes.NewReader(in), Auto)
		if err != nil || len(rep.Cases) != 10000 {
			b.Fatalf("Parse() = %v cases, %v", len(rep.Cases), err)
		}
	}
}

// BenchmarkJUnit10000Sized counts the cases of the same report first, as
// slipway test does, and parses with room for them.
func BenchmarkJUnit10000Sized(b *testing.B) {
	in := JUnitReport(10000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := CountCases(bytes.NewReader(in))
		if err != nil {
			b.Fatal(err)
		}
		rep, err := ParseSized("bench.xml", bytes.NewReader(in), Auto, n)
		if err != nil || len(rep.Cases) != 10000 {
			b.Fatalf("ParseSized() = %v cases, %v", len(rep.Cases), err)
		}
	}
}
