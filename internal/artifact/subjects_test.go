package artifact

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
)

const hexA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestParseSubjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []string // names
		wantErr string
	}{
		{name: "text mode", in: hexA + "  dist/app\n", want: []string{"dist/app"}},
		{name: "binary mode", in: hexA + " *dist/app\n", want: []string{"dist/app"}},
		{name: "crlf and blank lines", in: "\r\n" + hexA + "  a\r\n\n", want: []string{"a"}},
		{name: "name with spaces", in: hexA + "  my file.txt\n", want: []string{"my file.txt"}},
		{name: "escaped newline", in: `\` + hexA + `  a\nb` + "\n", want: []string{"a\nb"}},
		{name: "empty", in: "\n", wantErr: "no subjects"},
		{name: "short", in: "abc  x\n", wantErr: "stdin:1: line \"abc  x\" is too short"},
		{name: "bad hex", in: strings.Repeat("z", 64) + "  x\n", wantErr: "not hexadecimal"},
		{name: "one space", in: hexA + " x\n", wantErr: "want two spaces"},
		{name: "duplicate", in: hexA + "  x\n" + hexA + "  x\n", wantErr: "stdin:2: subject \"x\" is listed twice (first on line 1)"},
		{name: "bad escape", in: `\` + hexA + `  a\qb` + "\n", wantErr: "unknown escape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSubjects(strings.NewReader(tc.in), "stdin")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSubjects() error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSubjects() error = %v", err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
				if s.Digest.Hex() != hexA {
					t.Errorf("digest = %s, want %s", s.Digest.Hex(), hexA)
				}
			}
			if strings.Join(names, "|") != strings.Join(tc.want, "|") {
				t.Errorf("names = %q, want %q", names, tc.want)
			}
		})
	}
}

func TestWriteSubjectsGolden(t *testing.T) {
	t.Parallel()
	d, _ := digest.ParseHex(hexA)
	subjects := []Subject{{Name: "dist/app", Digest: d}, {Name: `odd\name`, Digest: d}}
	var b bytes.Buffer
	if err := WriteSubjects(&b, subjects); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "subjects.sha256")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("WriteSubjects() =\n%s\nwant\n%s", b.Bytes(), want)
	}
	back, err := ParseSubjects(bytes.NewReader(want), golden)
	if err != nil || len(back) != 2 || back[1].Name != `odd\name` {
		t.Errorf("round trip = %v, %v", back, err)
	}
}

func FuzzParseSubjects(f *testing.F) {
	f.Add(hexA + "  dist/app\n")
	f.Add(`\` + hexA + `  a\nb\\c` + "\n")
	f.Add(hexA + " *x\r\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseSubjects(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteSubjects(&b, got); err != nil {
			t.Fatal(err)
		}
		again, err := ParseSubjects(&b, "rewritten")
		if err != nil {
			t.Fatalf("rewritten subjects do not parse: %v\n%q", err, b.String())
		}
		if len(again) != len(got) {
			t.Fatalf("round trip lost subjects: %d != %d", len(again), len(got))
		}
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("round trip changed %v into %v", got[i], again[i])
			}
		}
	})
}
