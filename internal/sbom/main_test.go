package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"golang.org/x/mod/modfile"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup() // no Generate runs any more: remove stereoscope's directories
	os.Exit(code)
}

// created is the fixed creation time of the documents tests compare.
var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sha256sum returns the subject's digest as the sha256sum tool prints it, or
// as crypto/sha256 computes it where coreutils is missing.
func sha256sum(t testing.TB, path string) string {
	t.Helper()
	if bin, err := exec.LookPath("sha256sum"); err == nil {
		out, err := exec.Command(bin, path).Output()
		if err != nil {
			t.Fatalf("sha256sum %s: %v", path, err)
		}
		return strings.Fields(string(out))[0]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// buildGoBinary builds a tiny static Go program into dir and returns its path.
func buildGoBinary(t testing.TB, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	src := filepath.Join(dir, "src")
	mustWrite(t, filepath.Join(src, "go.mod"), "module example.com/tiny\n\ngo 1.22\n")
	mustWrite(t, filepath.Join(src, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tiny\") }\n")
	out := filepath.Join(dir, "tiny")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// decodeCDX decodes a CycloneDX JSON document with cyclonedx-go.
func decodeCDX(t testing.TB, path string) *cyclonedx.BOM {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cyclonedx.BOM
	if err := cyclonedx.NewBOMDecoder(f, cyclonedx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decoding %s with cyclonedx-go: %v", path, err)
	}
	return &bom
}

// cdxDoc decodes a CycloneDX JSON document with cyclonedx-go and checks its
// spec version and the subject hash in metadata.component.hashes.
func cdxDoc(t testing.TB, path, wantHex string) *cyclonedx.BOM {
	t.Helper()
	bom := decodeCDX(t, path)
	if bom.SpecVersion < cyclonedx.SpecVersion1_6 {
		t.Errorf("%s: specVersion %s, want 1.6 or newer", path, bom.SpecVersion)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.Hashes == nil {
		t.Fatalf("%s: no metadata.component.hashes", path)
	}
	var got []string
	for _, h := range *bom.Metadata.Component.Hashes {
		if h.Algorithm == cyclonedx.HashAlgoSHA256 {
			got = append(got, h.Value)
		}
	}
	if len(got) != 1 || got[0] != wantHex {
		t.Errorf("%s: metadata.component.hashes SHA-256 = %v, want exactly [%s]", path, got, wantHex)
	}
	return bom
}

// spdxDescribedChecksum checks an SPDX JSON document's version and returns
// the SHA256 checksums of the package it DESCRIBES.
func spdxCheck(t testing.TB, path, wantHex string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("%s: spdxVersion = %q (%v), want SPDX-2.3", path, head.SPDXVersion, err)
	}
	doc, err := spdxjson.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding %s with tools-golang: %v", path, err)
	}
	root, err := describedPackage(doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var got []string
	for _, c := range root.PackageChecksums {
		if c.Algorithm == "SHA256" {
			got = append(got, c.Value)
		}
	}
	if len(got) != 1 || got[0] != wantHex {
		t.Errorf("%s: the DESCRIBED package %q has SHA256 checksums %v, want exactly [%s]", path, root.PackageSPDXIdentifier, got, wantHex)
	}
}

// fileDigest is the sha256 of a small file the test wrote or read.
func fileDigest(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func TestSyftModuleVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mf.Require {
		if r.Mod.Path == "github.com/anchore/syft" {
			if r.Mod.Version != syftModuleVersion {
				t.Errorf("go.mod requires syft %s, syftModuleVersion is %s: update it", r.Mod.Version, syftModuleVersion)
			}
			return
		}
	}
	t.Error("go.mod does not require github.com/anchore/syft")
}
