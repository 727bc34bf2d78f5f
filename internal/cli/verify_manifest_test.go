package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

const releaseBuilder = "https://hpc.example.org/runners/pool"

// release runs the stages one by one, in the order a release job runs
// them, on one manifest in dir: build (src/a.bin and src/old.bin), an SBOM
// of each artifact, sign, attest provenance, attest the SBOMs, then, when
// ref is set, push. It writes policy.yaml trusting the key and the builder
// and returns the environment the key needs.
func release(t *testing.T, dir, ref string) map[string]string {
	t.Helper()
	return releaseWith(t, dir, ref, nil)
}

// releaseWith is release with more environment for its stages (a GitHub
// Actions job's, to record a source repository).
func releaseWith(t *testing.T, dir, ref string, extra map[string]string) map[string]string {
	t.Helper()
	key := sigstoretest.NewCosignKey(t, "pw")
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_KEY": string(key.PrivatePEM), "COSIGN_PASSWORD": "pw"}
	for k, v := range extra {
		env[k] = v
	}
	const manifest = "dist/manifest.json"
	steps := [][]string{
		{"build", "--command", "mkdir -p src && echo the-a > src/a.bin && echo the-old > src/old.bin", "--artifacts", "src/*.bin"},
		{"sbom", "--subject", "src/a.bin", "--manifest", manifest},
		{"sbom", "--subject", "src/old.bin", "--manifest", manifest},
		{"sign", "--manifest", manifest, "--tlog=false"},
		{"attest", "--manifest", manifest, "--tlog=false", "--builder-id", releaseBuilder},
		{"attest", "--manifest", manifest, "--tlog=false", "--predicate-type", "cyclonedx"},
	}
	if ref != "" {
		steps = append(steps, []string{"push", "--manifest", manifest, "--ref", ref})
	}
	for _, args := range steps {
		if code, stdout, stderr := runCLI(t, dir, env, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), key.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\nbuilders: [" + releaseBuilder + "]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return env
}

// editManifest rewrites the manifest's JSON as an attacker would, with no
// regard for its rules.
func editManifest(t *testing.T, dir string, edit func(records []map[string]any) []map[string]any) {
	t.Helper()
	path := filepath.Join(dir, "dist", "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for _, r := range m["artifacts"].([]any) {
		recs = append(recs, r.(map[string]any))
	}
	var out []any
	for _, r := range edit(recs) {
		out = append(out, r)
	}
	m["artifacts"] = out
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// record returns the record named name.
func record(t *testing.T, recs []map[string]any, name string) map[string]any {
	t.Helper()
	for _, r := range recs {
		if r["name"] == name {
			return r
		}
	}
	t.Fatalf("no record %q", name)
	return nil
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileDigestHex(t *testing.T, path string) string {
	t.Helper()
	d, _, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return d.Hex()
}

// TestVerifyManifestBypasses are the regression tests of an unsigned
// manifest redirecting, renaming or dropping what verify reports, and of a
// recorded SBOM attestation going missing. Each made verify report success
// before; each must fail now.
func TestVerifyManifestBypasses(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	clean := filepath.Join(root, "clean")
	if err := os.Mkdir(clean, 0o755); err != nil {
		t.Fatal(err)
	}
	env := release(t, clean, "")
	if code, stdout, stderr := runCLI(t, clean, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml"); code != 0 {
		t.Fatalf("the untouched release does not verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	tests := []struct {
		name   string
		attack func(t *testing.T, dir string)
		want   string
	}{
		{"a name pointing at another file", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "src/a.bin"), "tampered\n")
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				a, old := record(t, recs, "src/a.bin"), record(t, recs, "src/old.bin")
				a["path"], a["digest"], a["size"] = old["path"], old["digest"], old["size"]
				return recs
			})
		}, `record "src/a.bin": a artifact record's name and path are bound: field "path" is "src/old.bin", want the name "src/a.bin"`},
		{"a path leaving the workspace", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "src/a.bin"), "tampered\n")
			writeFile(t, filepath.Join(dir, "..", "x"), "the-old\n")
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				a, old := record(t, recs, "src/a.bin"), record(t, recs, "src/old.bin")
				a["path"], a["digest"], a["size"] = "../x", old["digest"], old["size"]
				return recs
			})
		}, `field "path" "../x" leaves the workspace`},
		{"an absolute path", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "src/a.bin"), "tampered\n")
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				a, old := record(t, recs, "src/a.bin"), record(t, recs, "src/old.bin")
				a["path"], a["digest"], a["size"] = filepath.Join(dir, "src/old.bin"), old["digest"], old["size"]
				return recs
			})
		}, `is absolute; a path is relative to the workspace`},
		{"an artifact dropped from the manifest", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "src/a.bin"), "tampered\n")
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				var out []map[string]any
				for _, r := range recs {
					if !strings.Contains(r["name"].(string), "a.bin") {
						out = append(out, r)
					}
				}
				return out
			})
		}, `FAIL manifest   provenance.intoto.sigstore.json: the provenance names "src/a.bin" sha256:`},
		{"an artifact renamed, file and record", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "src/c.bin"), "the-old\n")
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				old := record(t, recs, "src/old.bin")
				old["name"], old["path"] = "src/c.bin", "src/c.bin"
				return recs
			})
		}, `FAIL manifest   provenance.intoto.sigstore.json: the provenance names sha256:` + fileDigestHex(t, filepath.Join(clean, "src/old.bin")) + ` "src/old.bin", but the manifest calls it "src/c.bin": the manifest renamed an artifact`},
		{"a signature record pointing outside", func(t *testing.T, dir string) {
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				sig := record(t, recs, "src/a.bin.sigstore.json")
				sig["name"], sig["path"] = "../elsewhere.sigstore.json", "../elsewhere.sigstore.json"
				return recs
			})
		}, `field "path" "../elsewhere.sigstore.json" leaves the workspace`},
		{"a provenance record naming another bundle", func(t *testing.T, dir string) {
			editManifest(t, dir, func(recs []map[string]any) []map[string]any {
				p := record(t, recs, "dist/provenance.intoto.sigstore.json#src/a.bin")
				p["path"] = "src/a.bin.sigstore.json"
				return recs
			})
		}, `field "name" is "dist/provenance.intoto.sigstore.json#src/a.bin", want "src/a.bin.sigstore.json#" followed by the name of the subject`},
		{"a recorded SBOM attestation missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "src/a.bin.cdx.json.intoto.sigstore.json")); err != nil {
				t.Fatal(err)
			}
		}, `FAIL bundle     a.bin.cdx.json.intoto.sigstore.json: cannot be read`},
		{"a recorded SBOM attestation replaced", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, "src/old.bin.cdx.json.intoto.sigstore.json"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "src/a.bin.cdx.json.intoto.sigstore.json"), string(b))
		}, `FAIL bundle     a.bin.cdx.json.intoto.sigstore.json: is sha256:`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"), "ws")
			if err := os.CopyFS(dir, os.DirFS(clean)); err != nil {
				t.Fatal(err)
			}
			tc.attack(t, dir)
			code, stdout, stderr := runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml")
			if code == 0 || strings.Contains(stdout, "verified=true") {
				t.Fatalf("verify passed the attacked manifest: exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("verify output lacks %q:\n%s\n%s", tc.want, stdout, stderr)
			}
		})
	}
}
