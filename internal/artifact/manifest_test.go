package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
)

func TestManifestRoundTrip(t *testing.T) {
	t.Parallel()
	d, _ := digest.ParseHex(hexA)
	m := NewManifest()
	m.Add(Record{Name: "dist/app", Path: "dist/app", Digest: d, Size: 0, MediaType: "application/octet-stream", Role: RoleArtifact})
	m.Add(Record{Name: "dist/app.cdx.json", Path: "dist/app.cdx.json", Digest: d, MediaType: "application/vnd.cyclonedx+json", Role: RoleSBOM, Describes: d})
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 2 || got.Records[1].Describes != d || got.Records[0].Digest != d {
		t.Errorf("round trip = %+v", got.Records)
	}
	if s := got.Subjects(); len(s) != 1 || s[0].Name != "dist/app" {
		t.Errorf("Subjects() = %+v", s)
	}
	if len(got.Describing(d)) != 1 {
		t.Errorf("Describing() = %+v", got.Describing(d))
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"not json", "{", "parsing manifest \"m.json\""},
		{"wrong media type", `{"mediaType":"x","artifacts":[]}`, "field \"mediaType\" is \"x\""},
		{"bad digest", `{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"a","digest":{"sha256":"zz"},"size":1,"mediaType":"x","role":"artifact"}]}`, "field \"digest.sha256\""},
		{"bad role", `{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"a","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"boss"}]}`, "artifacts[0]: record \"a\": field \"role\" is \"boss\""},
		{"sbom without subject", `{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"a","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"sbom"}]}`, "needs field \"describes\""},
		{"unknown field", `{"mediaType":"` + ManifestMediaType + `","artifacts":[],"extra":1}`, "unknown field"},
		{"trailing data", `{"mediaType":"` + ManifestMediaType + `","artifacts":[]} {"mediaType":"x"}`, "data follows the manifest's JSON object at byte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(strings.NewReader(tc.in), "m.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "sub")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file where a directory is needed: the write must fail cleanly.
	if err := NewManifest().WriteFile(filepath.Join(target, "m.json")); err == nil {
		t.Fatal("WriteFile() into a file path succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the original file", len(entries))
	}
}

// TestReadManifestOnlyRegularFiles: a FIFO or /dev/zero given as the
// manifest is refused at once; an oversized one names the limit.
func TestReadManifestOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "manifest.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"mediaType":"`+ManifestMediaType+`","artifacts":[`+strings.Repeat(" ", MaxManifestSize)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "is a character device, not a regular file"},
		{big, "is larger than the limit of 64 MiB"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadManifest(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadManifest(%q) = %v, want an error containing %q", tc.path, err, tc.want)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("ReadManifest(%q) did not return: it blocks on a file that is not a regular file", tc.path)
		}
	}
}
