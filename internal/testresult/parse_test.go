package testresult

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// inputs lists the test data files of dir (not the goldens, not README).
func inputs(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".golden") || e.Name() == "README.md" {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden := path + ".golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", path, golden, got)
	}
}

// TestGolden parses each report the real tools wrote (testdata/README.md)
// with the format detected, and compares the cases with the golden file.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, path := range inputs(t, "testdata") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := Parse(filepath.Base(path), f, Auto)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Cases) == 0 {
				t.Fatal("no cases")
			}
			got, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, path, append(got, '\n'))
			// Sized by a first pass, the same cases.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			n, err := CountCases(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			sized, err := ParseSized(filepath.Base(path), f, Auto, n)
			if err != nil || !slices.Equal(sized.Cases, rep.Cases) {
				t.Errorf("ParseSized(count %d) = %+v, %v; want the cases Parse found", n, sized, err)
			}
		})
	}
}

// TestCountCases counts the "<testcase" of a JUnit report whichever way
// the reads cut it, and nothing in other formats.
func TestCountCases(t *testing.T) {
	t.Parallel()
	junit := string(JUnitReport(250))
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"empty", "", 0},
		{"junit", junit, 250},
		{"self-closing and commented", `<testsuite><testcase name="a"/><!-- <testcase --><testcase name="b"></testcase></testsuite>`, 3},
		{"gotest", `{"Action":"run","Test":"TestX"}` + "\n", 0},
		{"tap", "1..1\nok 1 - x\n", 0},
	}
	for _, tt := range tests {
		for _, how := range []struct {
			name string
			r    func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"bytewise", iotest.OneByteReader},
			{"halves", iotest.HalfReader},
			{"data with EOF", iotest.DataErrReader},
		} {
			got, err := CountCases(how.r(strings.NewReader(tt.in)))
			if err != nil || got != tt.want {
				t.Errorf("%s, %s: CountCases() = %d, %v; want %d", tt.name, how.name, got, err, tt.want)
			}
		}
	}
	if _, err := CountCases(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("CountCases(failing reader) = %v; want its error", err)
	}
}

// TestBad: malformed, truncated and foreign inputs are errors naming the
// file and a position, never a report.
func TestBad(t *testing.T) {
	t.Parallel()
	for _, path := range inputs(t, filepath.Join("testdata", "bad")) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			name := filepath.Base(path)
			rep, err := Parse(name, f, Auto)
			if err == nil {
				t.Fatalf("Parse() = %+v, want an error", rep)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != name || (pe.Line == 0 && pe.Offset < 0) {
				t.Errorf("error %v (%#v) names no file and position", err, pe)
			}
			checkGolden(t, path, []byte(err.Error()+"\n"))
		})
	}
}

// TestTruncated cuts every good report at a quarter, half and three
// quarters: each cut is an error, never fewer tests. (bail.tap is left
// out: nothing after its "Bail out!" is read, so a cut inside that line
// still reads as the failed run it is.)
func TestTruncated(t *testing.T) {
	t.Parallel()
	for _, path := range inputs(t, "testdata") {
		if filepath.Base(path) == "bail.tap" {
			continue
		}
		full, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, frac := range []int{1, 2, 3} {
			cut := full[:len(full)*frac/4]
			rep, err := Parse(filepath.Base(path), bytes.NewReader(cut), Auto)
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) {
				t.Errorf("%s cut at %d/4: Parse() = %+v, %v; want a ParseError", path, frac, rep, err)
			}
		}
	}
}

// TestFormatGiven: a format set by the caller is used as is, and the wrong
// one is an error rather than an empty report.
func TestFormatGiven(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		f    Format
	}{
		{"gotest.json", TAP},
		{"perl.tap", GoTest},
		{"gotest.json", JUnit},
		{"ctest.xml", GoTest},
		{"perl.tap", JUnit},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := Parse(tc.file, bytes.NewReader(b), tc.f); err == nil {
			t.Errorf("Parse(%s, %s) = %d cases, want an error", tc.file, tc.f, len(rep.Cases))
		}
	}
	if _, err := ParseFormat("xunit"); err == nil {
		t.Error("ParseFormat(xunit) accepted")
	}
	for in, want := range map[string]Format{"": Auto, "JUnit": JUnit, " gotest ": GoTest, "tap": TAP, "auto": Auto} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
}

// TestMessageBounded: a huge failure text is cut, inside UTF-8 boundaries.
func TestMessageBounded(t *testing.T) {
	t.Parallel()
	in := `<testsuite name="s"><testcase name="a"><failure>` + strings.Repeat("é", 10000) + `</failure></testcase></testsuite>`
	rep, err := Parse("big.xml", strings.NewReader(in), Auto)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Cases[0].Message
	if len(m) > maxMessage+8 || !strings.HasSuffix(m, " …") || !json.Valid([]byte(`"`+strings.TrimSuffix(m, " …")+`"`)) {
		t.Errorf("message of %d bytes, ends %q", len(m), m[len(m)-8:])
	}
}

// TestNamesAcrossBuffer reads tag and attribute names that the reader's
// 64 KiB buffer cuts at every offset, and names longer than the fast
// path takes (64 bytes): the same cases, the same error positions.
func TestNamesAcrossBuffer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 70)
	for pad := 65536 - 80; pad < 65536+10; pad++ {
		in := "<testsuite name=\"s\">" + strings.Repeat(" ", pad) + `<testcase ` + long + `="1" classname="c" name="n"/></testsuite>`
		rep, err := Parse("x.xml", strings.NewReader(in), JUnit)
		if err != nil || len(rep.Cases) != 1 || rep.Cases[0].FullName() != "c/n" {
			t.Fatalf("pad %d: Parse() = %+v, %v", pad, rep, err)
		}
		// Errors where a name ends: at the positions the byte-by-byte
		// path gives (a reader of one byte at a time leaves the buffer
		// next to empty).
		for _, tail := range []string{"<testcase name=\"n\"></testcase\n></testsuite >< />", "<testcase\n&/>", "</x>"} {
			bad := "<testsuite>" + strings.Repeat("\n", pad/100) + strings.Repeat(" ", pad-pad/100) + tail
			_, err = Parse("x.xml", strings.NewReader(bad), JUnit)
			_, want := Parse("x.xml", iotest.OneByteReader(strings.NewReader(bad)), JUnit)
			if err == nil || want == nil || err.Error() != want.Error() {
				t.Fatalf("pad %d, %q: Parse() = %v; want %v", pad, tail, err, want)
			}
		}
	}
}
