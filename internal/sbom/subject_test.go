package sbom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/exitcode"
)

func TestParseSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Subject
		wantErr string
	}{
		{in: "dist/app", want: Subject{Kind: KindPath, Path: "dist/app"}},
		{in: "  dist/app\n", want: Subject{Kind: KindPath, Path: "dist/app"}},
		{in: "/abs/app.tar.gz", want: Subject{Kind: KindPath, Path: "/abs/app.tar.gz"}},
		{in: "app:v1", want: Subject{Kind: KindPath, Path: "app:v1"}},
		{in: "build.out/app", want: Subject{Kind: KindPath, Path: "build.out/app", Ref: "build.out/app:latest"}},
		{in: "127.0.0.1:5000/team/app:v1", want: Subject{Kind: KindPath, Path: "127.0.0.1:5000/team/app:v1", Ref: "127.0.0.1:5000/team/app:v1"}},
		{in: "localhost/app@sha256:" + strings.Repeat("a", 64), want: Subject{Kind: KindPath, Path: "localhost/app@sha256:" + strings.Repeat("a", 64), Ref: "localhost/app@sha256:" + strings.Repeat("a", 64)}},
		{in: "./127.0.0.1:5000/app", want: Subject{Kind: KindPath, Path: "./127.0.0.1:5000/app"}},
		{in: "oci-layout:out/image", want: Subject{Kind: KindOCILayout, Path: "out/image"}},
		{in: "oci-dir:out/image", want: Subject{Kind: KindOCILayout, Path: "out/image"}},
		{in: "registry:127.0.0.1:5000/app:v1", want: Subject{Kind: KindRegistry, Ref: "127.0.0.1:5000/app:v1"}},
		{in: "registry:alpine", want: Subject{Kind: KindRegistry, Ref: "index.docker.io/library/alpine:latest"}},
		{in: "file:registry:odd", want: Subject{Kind: KindFile, Path: "registry:odd"}},
		{in: "dir:src", want: Subject{Kind: KindDir, Path: "src"}},
		{in: "", wantErr: "subject is empty"},
		{in: "   ", wantErr: "subject is empty"},
		{in: "a\x00b", wantErr: "NUL or line break"},
		{in: "a\nb", wantErr: "NUL or line break"},
		{in: "oci-layout:", wantErr: "names no directory"},
		{in: "file:", wantErr: "names no file"},
		{in: "dir:", wantErr: "names no directory"},
		{in: "registry:UPPER/Case", wantErr: "parsing image reference"},
		{in: "registry:", wantErr: "parsing image reference"},
		{in: "docker:alpine", wantErr: `the "docker" source is not supported: image daemons are never contacted`},
		{in: "podman:alpine", wantErr: `the "podman" source is not supported`},
		{in: "docker-archive:img.tar", wantErr: `the "docker-archive" source is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSubject(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSubject(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSubject(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseSubject(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParseSubject checks that the subject parser never panics, that what it
// accepts is well formed, and that String reads back to the same subject.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{
		"dist/app", "oci-layout:out", "oci-dir:x", "registry:127.0.0.1:5000/a/b:v1", "localhost:5000/app",
		"file:x", "dir:y", "docker:alpine", "registry:", "a@sha256:" + strings.Repeat("0", 64), ":", "x:y:z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSubject(in)
		if err != nil {
			if s != (Subject{}) {
				t.Fatalf("ParseSubject(%q) returned %+v with error %v", in, s, err)
			}
			return
		}
		switch s.Kind {
		case KindPath, KindFile, KindDir, KindOCILayout:
			if s.Path == "" || strings.ContainsAny(s.Path, "\x00\n\r") {
				t.Fatalf("ParseSubject(%q) = %+v: bad path", in, s)
			}
		case KindRegistry:
			if s.Path != "" {
				t.Fatalf("ParseSubject(%q) = %+v: registry subject with a path", in, s)
			}
		default:
			t.Fatalf("ParseSubject(%q) = %+v: unknown kind", in, s)
		}
		if s.Ref != "" {
			if _, err := name.ParseReference(s.Ref); err != nil {
				t.Fatalf("ParseSubject(%q) = %+v: reference does not parse: %v", in, s, err)
			}
		}
		again, err := ParseSubject(s.String())
		if err != nil || again != s {
			t.Fatalf("ParseSubject(%q) = %+v; String() = %q reads back as %+v, %v", in, s, s.String(), again, err)
		}
	})
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	mustWrite(t, filepath.Join(ws, "dist", "app"), "binary")
	mustWrite(t, filepath.Join(ws, "notlayout", "index.json"), "{}")
	mustWrite(t, filepath.Join(ws, "layout", "index.json"), "{}")
	mustWrite(t, filepath.Join(ws, "layout", "oci-layout"), `{"imageLayoutVersion":"1.0.0"}`)

	tests := []struct {
		in       string
		want     Subject
		wantErr  string
		wantCode exitcode.Code
	}{
		{in: "dist/app", want: Subject{Kind: KindFile, Path: filepath.Join(ws, "dist", "app")}},
		{in: "dist", want: Subject{Kind: KindDir, Path: filepath.Join(ws, "dist")}},
		{in: "file:dist/app", want: Subject{Kind: KindFile, Path: filepath.Join(ws, "dist", "app")}},
		{in: "oci-layout:layout", want: Subject{Kind: KindOCILayout, Path: filepath.Join(ws, "layout")}},
		{in: "127.0.0.1:5000/app:v1", want: Subject{Kind: KindRegistry, Ref: "127.0.0.1:5000/app:v1"}},
		{in: "dist/missing", wantErr: `subject "dist/missing"`, wantCode: exitcode.Usage},
		{in: "dist/missing", wantErr: "give an existing file or directory", wantCode: exitcode.Usage},
		{in: "file:dist", wantErr: "is a directory, not a file", wantCode: exitcode.Usage},
		{in: "dir:dist/app", wantErr: "is a file, not a directory", wantCode: exitcode.Usage},
		{in: "oci-layout:notlayout", wantErr: "is not an OCI image layout (no oci-layout file)", wantCode: exitcode.Usage},
		{in: "oci-layout:dist/app", wantErr: "is not a directory, so not an OCI image layout", wantCode: exitcode.Usage},
		{in: "oci-layout:nothing", wantErr: `subject "nothing"`, wantCode: exitcode.Usage},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParseSubject(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Resolve(p, ws)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != tc.wantCode {
					t.Fatalf("Resolve(%q) error = %v (code %v), want %q (code %v)", tc.in, err, exitcode.Of(err), tc.wantErr, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Resolve(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	ws := t.TempDir()
	mustWrite(t, filepath.Join(ws, "secret"), "x")
	if err := os.Chmod(filepath.Join(ws, "secret"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(Subject{Kind: KindPath, Path: "secret"}, ws)
	if err == nil || !strings.Contains(err.Error(), "make it readable") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Resolve(unreadable) error = %v, want a usage error saying to make it readable", err)
	}
}

func TestDefaultOutput(t *testing.T) {
	t.Parallel()
	ws := "/ws"
	cdx, spdx := DefaultFormat, Format{Name: SPDXJSON, Version: "2.3"}
	tests := []struct {
		s       Subject
		f       Format
		want    string
		wantErr string
	}{
		{s: Subject{Kind: KindFile, Path: "/ws/dist/app"}, f: cdx, want: "dist/app.cdx.json"},
		{s: Subject{Kind: KindFile, Path: "/ws/dist/app"}, f: spdx, want: "dist/app.spdx.json"},
		{s: Subject{Kind: KindFile, Path: "/elsewhere/app"}, f: cdx, want: "/elsewhere/app.cdx.json"},
		{s: Subject{Kind: KindDir, Path: "/ws/src"}, f: cdx, want: "src.cdx.json"},
		{s: Subject{Kind: KindOCILayout, Path: "/ws/out/image"}, f: spdx, want: "out/image.spdx.json"},
		{s: Subject{Kind: KindRegistry, Ref: "127.0.0.1:5000/team/app:v1"}, f: cdx, want: "app-v1.cdx.json"},
		{s: Subject{Kind: KindRegistry, Ref: "127.0.0.1:5000/app@sha256:" + strings.Repeat("ab", 32)}, f: cdx, want: "app-sha256-abababababab.cdx.json"},
		{s: Subject{Kind: KindDir, Path: "/ws"}, f: cdx, wantErr: "has no default place outside it; describe a subdirectory instead (subject: src), or set output to a file inside the workspace"},
		{s: Subject{Kind: KindDir, Path: "/"}, f: cdx, wantErr: "has no default place"},
	}
	for _, tc := range tests {
		t.Run(tc.s.String()+tc.f.Name, func(t *testing.T) {
			t.Parallel()
			got, err := DefaultOutput(tc.s, tc.f, ws)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != exitcode.Usage {
					t.Fatalf("DefaultOutput() error = %v, want usage error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != filepath.FromSlash(tc.want) {
				t.Errorf("DefaultOutput(%+v) = %q, %v; want %q", tc.s, got, err, tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: "cyclonedx-json@1.6"},
		{in: "cyclonedx-json", want: "cyclonedx-json@1.6"},
		{in: " CycloneDX-JSON@1.7 ", want: "cyclonedx-json@1.7"},
		{in: "spdx-json", want: "spdx-json@2.3"},
		{in: "spdx-json@2.3", want: "spdx-json@2.3"},
		{in: "spdx-json@2.2", wantErr: "use one of cyclonedx-json, cyclonedx-json@1.6, cyclonedx-json@1.7, spdx-json, spdx-json@2.3"},
		{in: "cyclonedx-json@1.5", wantErr: `format "cyclonedx-json@1.5" is not supported`},
		{in: "syft-json", wantErr: "is not supported; use one of"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFormat(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseFormat(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("ParseFormat(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
