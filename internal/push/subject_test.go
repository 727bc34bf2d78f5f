package push

import (
	"strings"
	"testing"
)

func TestParseSubject(t *testing.T) {
	t.Parallel()
	hex := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		in      []string
		want    Subject
		wantErr string
	}{
		{name: "files", in: []string{"dist/app", "dist/*.json"}, want: Subject{Files: []string{"dist/app", "dist/*.json"}}},
		{name: "layout", in: []string{"oci-layout:dist/image"}, want: Subject{Layout: "dist/image"}},
		{name: "layout by digest", in: []string{"oci-layout:img@sha256:" + hex}, want: Subject{Layout: "img", Select: "sha256:" + hex}},
		{name: "layout by name", in: []string{"oci-layout:/abs/img@v1.2"}, want: Subject{Layout: "/abs/img", Select: "v1.2"}},
		{name: "at in directory", in: []string{"oci-layout:build@2/img/"}, want: Subject{Layout: "build@2/img/"}},
		{name: "nothing", in: nil, want: Subject{}},
		{name: "layout and files", in: []string{"a", "oci-layout:img"}, wantErr: "must be the only subject (got 2)"},
		{name: "no directory", in: []string{"oci-layout:"}, wantErr: "names no directory"},
		{name: "empty selector", in: []string{"oci-layout:img@"}, wantErr: "ends in \"@\" without a selector"},
		{name: "bad digest", in: []string{"oci-layout:img@sha256:abc"}, wantErr: "selector: sha256 digest \"abc\""},
		{name: "empty item", in: []string{"a", " "}, wantErr: "subject 2 is empty"},
		{name: "nul", in: []string{"a\x00b"}, wantErr: "NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSubject(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSubject(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got.Files, "|") != strings.Join(tc.want.Files, "|") || got.Layout != tc.want.Layout || got.Select != tc.want.Select {
				t.Fatalf("ParseSubject(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseSubject: any input gives a subject or an error, never a panic; a
// layout subject names a directory and, joined back, is the input.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"dist/app", "oci-layout:dir", "oci-layout:d@sha256:" + strings.Repeat("0", 64), "oci-layout:a@b/c", "oci-layout:@x", "a\nb"} {
		f.Add(s, "")
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		items := []string{a}
		if b != "" {
			items = append(items, b)
		}
		s, err := ParseSubject(items)
		if err != nil {
			if !strings.Contains(err.Error(), "subject") {
				t.Fatalf("error %q does not say which input", err)
			}
			return
		}
		if s.Layout == "" {
			if len(s.Files) != len(items) {
				t.Fatalf("files = %q, want %q", s.Files, items)
			}
			return
		}
		joined := LayoutPrefix + s.Layout
		if s.Select != "" {
			joined += "@" + s.Select
		}
		if len(items) != 1 || joined != a || strings.TrimSpace(s.Layout) == "" {
			t.Fatalf("ParseSubject(%q) = %+v", items, s)
		}
	})
}
