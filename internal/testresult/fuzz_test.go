package testresult

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fuzzParse checks what every parser promises on any input: no panic,
// and either a *ParseError naming the file or a report whose cases are
// well-formed.
func fuzzParse(f *testing.F, format Format, globs ...string) {
	for _, g := range globs {
		paths, _ := filepath.Glob(filepath.Join("testdata", g))
		bad, _ := filepath.Glob(filepath.Join("testdata", "bad", g))
		for _, p := range append(paths, bad...) {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Parse("fuzz.in", bytes.NewReader(in), format)
		// Sized by the first pass, the parse finds the same cases.
		n, cerr := CountCases(bytes.NewReader(in))
		if cerr != nil {
			t.Fatal(cerr)
		}
		sized, serr := ParseSized("fuzz.in", bytes.NewReader(in), format, n)
		if (serr == nil) != (err == nil) || err == nil && !slices.Equal(sized.Cases, rep.Cases) {
			t.Fatalf("ParseSized(count %d) = %v, %v; Parse = %v, %v", n, sized, serr, rep, err)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.in" {
				t.Fatalf("error %v is not a ParseError naming the file", err)
			}
			return
		}
		if rep == nil || rep.Format != format {
			t.Fatalf("report %+v without an error", rep)
		}
		for _, c := range rep.Cases {
			switch c.Status {
			case Passed, Failed, Skipped, Warned:
			default:
				t.Fatalf("case %+v has no valid status", c)
			}
			if c.FullName() == "" && c.Status != Failed {
				t.Fatalf("case %+v has no name", c)
			}
			if len(c.Message) > maxMessage+8 || c.Line < 0 {
				t.Fatalf("case %+v: message or line out of bounds", c)
			}
		}
	})
}

func FuzzJUnit(f *testing.F)  { fuzzParse(f, JUnit, "*.xml") }
func FuzzGoTest(f *testing.F) { fuzzParse(f, GoTest, "*.json") }
func FuzzTAP(f *testing.F)    { fuzzParse(f, TAP, "*.tap") }
