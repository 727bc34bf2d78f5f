package registryref

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		wantName   string // r.Name() of a good reference
		wantScheme string
		wantErr    string
	}{
		{in: "ghcr.io/owner/app:v1", wantName: "ghcr.io/owner/app:v1", wantScheme: "https"},
		{in: "registry.example.com:8443/a/b/c:1.0", wantName: "registry.example.com:8443/a/b/c:1.0", wantScheme: "https"},
		{in: "127.0.0.1:5000/app:v1", wantName: "127.0.0.1:5000/app:v1", wantScheme: "http"},
		{in: "127.1.2.3:5000/app:v1", wantName: "127.1.2.3:5000/app:v1", wantScheme: "http"},
		{in: "localhost:41234/app:v1", wantName: "localhost:41234/app:v1", wantScheme: "http"},
		{in: "localhost/app:v1", wantName: "localhost/app:v1", wantScheme: "http"},
		{in: "[::1]:5000/app:v1", wantName: "[::1]:5000/app:v1", wantScheme: "http"},
		{in: "ghcr.io/owner/app@sha256:" + strings.Repeat("a", 64), wantName: "ghcr.io/owner/app@sha256:" + strings.Repeat("a", 64), wantScheme: "https"},
		{in: "docker.io/library/app:v1", wantName: "index.docker.io/library/app:v1", wantScheme: "https"},
		{in: "", wantErr: "the reference is empty"},
		{in: " ghcr.io/a:v1", wantErr: "white space"},
		{in: "http://127.0.0.1:5000/app:v1", wantErr: "has a URL scheme; remove it"},
		{in: "app:v1", wantErr: `reference "app:v1" names no registry`},
		{in: "owner/app:v1", wantErr: "names no registry"},
		{in: "ghcr.io/owner/app", wantErr: `parsing reference "ghcr.io/owner/app"`},
		{in: "ghcr.io/Owner/app:v1", wantErr: "use registry/repository:tag"},
		{in: "ghcr.io/owner/app:bad tag", wantErr: "use registry/repository:tag"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tc.in, err)
			}
			if r.Name() != tc.wantName {
				t.Errorf("Name() = %q, want %q", r.Name(), tc.wantName)
			}
			if got := r.Context().Scheme(); got != tc.wantScheme {
				t.Errorf("Scheme() = %q, want %q", got, tc.wantScheme)
			}
		})
	}
}

func TestParseTag(t *testing.T) {
	t.Parallel()
	tag, err := ParseTag("127.0.0.1:5000/app:v2")
	if err != nil || tag.TagStr() != "v2" || tag.RepositoryStr() != "app" || tag.Scheme() != "http" {
		t.Fatalf("ParseTag() = %v, %v", tag, err)
	}
	_, err = ParseTag("ghcr.io/owner/app@sha256:" + strings.Repeat("a", 64))
	if err == nil || !strings.Contains(err.Error(), "is a digest; a tag is needed here") {
		t.Fatalf("ParseTag(digest) error = %v", err)
	}
	_, err = ParseTag("ghcr.io/owner/app")
	if err == nil || !strings.Contains(err.Error(), "use registry/repository:tag") {
		t.Fatalf("ParseTag(no tag) error = %v", err)
	}
}

func TestParseRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, scheme, err string
	}{
		{"127.0.0.1:5000/slipway/base", "127.0.0.1:5000/slipway/base", "http", ""},
		{"ghcr.io/owner/base:v1", "ghcr.io/owner/base", "https", ""},
		{"ghcr.io/owner/base@sha256:" + strings.Repeat("a", 64), "ghcr.io/owner/base", "https", ""},
		{"base", "", "", "names no registry"},
		{"ghcr.io/Owner/base", "", "", "parsing repository"},
		{" ghcr.io/o/r", "", "", "white space"},
	}
	for _, tc := range tests {
		r, err := ParseRepository(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRepository(%q) = %v, %v; want an error with %q", tc.in, r, err, tc.err)
			}
			continue
		}
		if err != nil || r.Name() != tc.want || r.Scheme() != tc.scheme {
			t.Errorf("ParseRepository(%q) = %q (%s), %v; want %q (%s)", tc.in, r.Name(), r.Scheme(), err, tc.want, tc.scheme)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:80": true, "127.0.0.1": true, "127.0.0.1:5000": true,
		"127.9.9.9:1": true, "[::1]:5000": true, "::1": true,
		"ghcr.io": false, "10.0.0.1:5000": false, "localhost.example.com": false, "[::2]:5000": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ghcr.io/o/a:v1", "127.0.0.1:5000/a@sha256:" + strings.Repeat("0", 64), "[::1]:1/x:y", "a:b", "http://x/y:z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "e.g.") && !strings.Contains(err.Error(), "remove it") {
				t.Fatalf("error %q gives no fix", err)
			}
			return
		}
		// A parsed reference names its registry and round-trips.
		host, _, _ := strings.Cut(s, "/")
		reg, err := name.NewRegistry(host, name.Insecure)
		if err != nil || r.Context().RegistryStr() != reg.RegistryStr() {
			t.Fatalf("Parse(%q) registry = %q, want %q (%v)", s, r.Context().RegistryStr(), reg.RegistryStr(), err)
		}
		again, err := name.ParseReference(r.Name(), name.Insecure)
		if err != nil || again.Name() != r.Name() {
			t.Fatalf("reparsing %q: %v, %v", r.Name(), again, err)
		}
		if IsLoopback(host) != (r.Context().Scheme() == "http") && IsLoopback(host) {
			t.Fatalf("loopback %q not insecure", s)
		}
	})
}

func TestLowercaseRepository(t *testing.T) {
	t.Parallel()
	digest := "@sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"ghcr.io/Owner/Repo:v1.0.0", "ghcr.io/owner/repo:v1.0.0", true},
		{"ghcr.io/owner/repo:V1", "ghcr.io/owner/repo:V1", false}, // tags are case-sensitive
		{"ghcr.io/My-Org/App/Sub:RC1", "ghcr.io/my-org/app/sub:RC1", true},
		{"localhost:5000/Slipway/X:Tag", "localhost:5000/slipway/x:Tag", true},
		{"GHCR.io/Owner/Repo:v1", "GHCR.io/owner/repo:v1", true}, // the host is kept: hosts are case-insensitive
		{"ghcr.io/Owner/Repo" + digest, "ghcr.io/owner/repo" + digest, true},
		{"ghcr.io/Owner/Repo:v1" + digest, "ghcr.io/owner/repo:v1" + digest, true},
		{"ghcr.io/Owner/Repo", "ghcr.io/owner/repo", true},
		{"Owner/Repo:v1", "Owner/Repo:v1", false}, // no registry: Parse refuses it
		{"", "", false},
		{"ghcr.io/Ünïcode/Repo:v1", "ghcr.io/Ünïcode/repo:v1", true}, // ASCII only: Parse refuses the rest
	}
	for _, tt := range tests {
		got, changed := LowercaseRepository(tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("LowercaseRepository(%q) = %q, %t; want %q, %t", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

func FuzzLowercaseRepository(f *testing.F) {
	for _, s := range []string{"ghcr.io/Owner/Repo:v1", "localhost:5000/A@sha256:00", "a.b/C:D:E", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		got, changed := LowercaseRepository(ref)
		if changed != (got != ref) || len(got) != len(ref) {
			t.Fatalf("LowercaseRepository(%q) = %q, %t", ref, got, changed)
		}
		if again, c := LowercaseRepository(got); c || again != got {
			t.Fatalf("not idempotent: %q → %q → %q", ref, got, again)
		}
	})
}
