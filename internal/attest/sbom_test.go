package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
)

type referenceJSON struct {
	SBOM struct {
		Name      string            `json:"name"`
		Digest    map[string]string `json:"digest"`
		MediaType string            `json:"mediaType"`
		URI       string            `json:"uri"`
	} `json:"sbom"`
	SBOMPredicateType string `json:"sbomPredicateType"`
	Size              int64  `json:"size"`
}

func TestSBOMAttestations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  Options // Dir, Signer and Kind defaults are filled in
		setup func(t *testing.T, w *workspace)
		// want
		bundles       []string
		predicateType string
		subject       string // name of the single subject
		inline        string // the SBOM inlined, or "" for a reference
		refSize       int64
	}{
		{
			name:    "cyclonedx from the manifest",
			opts:    Options{Manifest: "dist/manifest.json", Kind: KindCycloneDX},
			bundles: []string{"dist/app.cdx.json.intoto.sigstore.json"}, predicateType: CycloneDXPredicateType, subject: "dist/app", inline: cdxDoc,
		},
		{
			name:    "spdx from the manifest",
			opts:    Options{Manifest: "dist/manifest.json", Kind: KindSPDX},
			bundles: []string{"dist/app.spdx.json.intoto.sigstore.json"}, predicateType: SPDXPredicateType, subject: "dist/app", inline: spdxDoc,
		},
		{
			name:    "sbom named, subject from its manifest record",
			opts:    Options{Manifest: "dist/manifest.json", SBOM: "dist/app.cdx.json", Kind: KindCycloneDX, Bundle: "out/sbom.sigstore.json"},
			bundles: []string{"out/sbom.sigstore.json"}, predicateType: CycloneDXPredicateType, subject: "dist/app", inline: cdxDoc,
		},
		{
			name:    "bare subject and sbom",
			opts:    Options{Subject: "dist/lib.so", SBOM: "dist/app.cdx.json", Kind: KindCycloneDX},
			bundles: []string{"dist/app.cdx.json.intoto.sigstore.json"}, predicateType: CycloneDXPredicateType, subject: "dist/lib.so", inline: cdxDoc,
		},
		{
			name:    "over the limit: referenced by the manifest's digest, not read",
			opts:    Options{Manifest: "dist/manifest.json", Kind: KindCycloneDX, SBOMInlineLimit: 10},
			bundles: []string{"dist/app.cdx.json.intoto.sigstore.json"}, predicateType: SBOMReferencePredicateType, subject: "dist/app", refSize: int64(len(cdxDoc)),
			setup: func(t *testing.T, w *workspace) {
				// Same size, other bytes: a reader would notice, a stat does not.
				writeFile(t, filepath.Join(w.dir, "dist", "app.cdx.json"), strings.Repeat(" ", len(cdxDoc)))
			},
		},
		{
			name:    "limit 0: an SBOM outside the manifest is hashed",
			opts:    Options{Subject: "dist/lib.so", SBOM: "dist/app.cdx.json", Kind: KindCycloneDX, SBOMInlineLimit: 0},
			bundles: []string{"dist/app.cdx.json.intoto.sigstore.json"}, predicateType: SBOMReferencePredicateType, subject: "dist/lib.so", refSize: int64(len(cdxDoc)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			o := tc.opts
			o.Dir = w.dir
			if o.SBOMInlineLimit == 0 && tc.refSize == 0 {
				o.SBOMInlineLimit = DefaultSBOMInlineLimit
			}
			s := newTestSigner(t)
			o.Signer = s
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Attestations) != len(tc.bundles) || res.ManifestUpdated != (o.Manifest != "") {
				t.Fatalf("Run() = %+v", res)
			}
			a := res.Attestations[0]
			if o.Manifest != "" {
				// The manifest records the attestation, one record per subject.
				m, err := artifact.ReadManifest(filepath.Join(w.dir, o.Manifest))
				if err != nil {
					t.Fatal(err)
				}
				recs := m.ByRole(artifact.RoleAttestation)
				if len(recs) != 1 || recs[0].Name != a.BundlePath+"#"+tc.subject || recs[0].Path != a.BundlePath ||
					recs[0].Digest != a.BundleDigest || recs[0].Describes != a.Subjects[0].Digest {
					t.Errorf("attestation records = %+v, want one for %s#%s describing %s", recs, a.BundlePath, tc.subject, a.Subjects[0].Digest)
				}
			}
			if a.BundlePath != tc.bundles[0] || a.PredicateType != tc.predicateType {
				t.Errorf("attestation = %+v", a)
			}
			_, payload, err := openEnvelope(t, readBundle(t, filepath.Join(w.dir, filepath.FromSlash(a.BundlePath))), s.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			st := parseStatement(t, payload)
			if st.PredicateType != tc.predicateType || len(st.Subject) != 1 || st.Subject[0].Name != tc.subject {
				t.Errorf("statement: predicateType %q, subjects %+v", st.PredicateType, st.Subject)
			}
			if tc.inline != "" {
				if !bytes.Equal(st.Predicate, compact(t, tc.inline)) {
					t.Errorf("predicate is not the SBOM byte for byte:\n%s", st.Predicate)
				}
				return
			}
			var ref referenceJSON
			if err := json.Unmarshal(st.Predicate, &ref); err != nil {
				t.Fatal(err)
			}
			cdx := w.m.Describing(w.app.Digest)[0]
			if ref.SBOM.Name != "dist/app.cdx.json" || ref.SBOM.Digest["sha256"] != cdx.Digest.Hex() ||
				ref.SBOM.MediaType != "application/vnd.cyclonedx+json" || ref.Size != tc.refSize || ref.SBOMPredicateType != CycloneDXPredicateType {
				t.Errorf("reference predicate = %+v", ref)
			}
		})
	}
}

func TestSBOMErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		setup   func(t *testing.T, w *workspace)
		code    exitcode.Code
		wantErr string
	}{
		{
			name: "changed since the sbom stage", opts: Options{Manifest: "dist/manifest.json", Kind: KindCycloneDX},
			setup: func(t *testing.T, w *workspace) {
				writeFile(t, filepath.Join(w.dir, "dist", "app.cdx.json"), strings.Replace(cdxDoc, "zlib", "zlib-ng", 1))
			},
			code: exitcode.Failed, wantErr: "it changed after the sbom stage",
		},
		{
			name: "changed size since the sbom stage, referenced", opts: Options{Manifest: "dist/manifest.json", Kind: KindCycloneDX, SBOMInlineLimit: 1},
			setup: func(t *testing.T, w *workspace) {
				writeFile(t, filepath.Join(w.dir, "dist", "app.cdx.json"), cdxDoc+" ")
			},
			code: exitcode.Failed, wantErr: "but the manifest records",
		},
		{name: "spdx given as cyclonedx", opts: Options{Subject: "dist/app", SBOM: "dist/app.spdx.json", Kind: KindCycloneDX}, code: exitcode.Usage, wantErr: `is an SPDX document (spdxVersion "SPDX-2.3"), not CycloneDX; set predicate-type to spdx`},
		{name: "cyclonedx given as spdx", opts: Options{Subject: "dist/app", SBOM: "dist/app.cdx.json", Kind: KindSPDX}, code: exitcode.Usage, wantErr: "is a CycloneDX document, not SPDX"},
		{
			name: "xml inline", opts: Options{Subject: "dist/app", SBOM: "bom.xml", Kind: KindCycloneDX},
			setup: func(t *testing.T, w *workspace) { writeFile(t, filepath.Join(w.dir, "bom.xml"), "<bom/>") },
			code:  exitcode.Usage, wantErr: "is not a JSON object; an inlined SBOM must be JSON",
		},
		{
			name: "broken json", opts: Options{Subject: "dist/app", SBOM: "bom.json", Kind: KindCycloneDX},
			setup: func(t *testing.T, w *workspace) {
				writeFile(t, filepath.Join(w.dir, "bom.json"), `{"bomFormat": "CycloneDX",`)
			},
			code: exitcode.Usage, wantErr: "is not valid JSON",
		},
		{name: "missing sbom", opts: Options{Subject: "dist/app", SBOM: "nope.json", Kind: KindCycloneDX}, code: exitcode.Usage, wantErr: "reading SBOM"},
		{
			name: "no sbom of that kind in the manifest", opts: Options{Manifest: "dist/manifest.json", Subject: "dist/lib.so", Kind: KindCycloneDX},
			code: exitcode.Usage, wantErr: "records no cyclonedx SBOM of the subjects",
		},
		{
			name: "one bundle path for two SBOMs", opts: Options{Manifest: "dist/manifest.json", Kind: KindCycloneDX, Bundle: "x.json"},
			setup: func(t *testing.T, w *workspace) {
				r := writeFile(t, filepath.Join(w.dir, "dist", "lib.cdx.json"), cdxDoc)
				r.Name, r.Path, r.MediaType, r.Role, r.Describes = "dist/lib.cdx.json", "dist/lib.cdx.json", "application/vnd.cyclonedx+json", artifact.RoleSBOM, w.lib.Digest
				w.m.Add(r)
				if err := w.m.WriteFile(w.manifest); err != nil {
					t.Fatal(err)
				}
			},
			code: exitcode.Usage, wantErr: "bundle names one file but 2 SBOMs are attested",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			o := tc.opts
			o.Dir, o.Signer = w.dir, newTestSigner(t)
			if o.SBOMInlineLimit == 0 {
				o.SBOMInlineLimit = DefaultSBOMInlineLimit
			}
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit code = %v, want %v", got, tc.code)
			}
			entries, _ := os.ReadDir(filepath.Join(w.dir, "dist"))
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".sigstore.json") {
					t.Errorf("wrote %s despite the error", e.Name())
				}
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"8MiB", 8 << 20, false}, {"8mib", 8 << 20, false}, {"8M", 8 << 20, false}, {"500KB", 500000, false},
		{"1048576", 1 << 20, false}, {" 2 GiB ", 2 << 30, false}, {"0", 0, false}, {"12b", 12, false},
		{"", 0, true}, {"-1", 0, true}, {"1.5MiB", 0, true}, {"8 parsecs", 0, true}, {"99999999999TiB", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %t", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8MiB", "1", "500kb", "9223372036854775807", "8388608TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

// FuzzCheckSBOM feeds arbitrary documents to the SBOM check and the
// statement encoder: accepted documents must give a statement that is JSON
// and holds the document unchanged.
func FuzzCheckSBOM(f *testing.F) {
	f.Add([]byte(cdxDoc), true)
	f.Add([]byte(spdxDoc), false)
	f.Add([]byte(`{"bomFormat":"CycloneDX","x":[1e400]}`), true)
	f.Add([]byte(`<bom/>`), true)
	subjects := []artifact.Subject{{Name: "a"}}
	subjects[0].Digest[0] = 1
	f.Fuzz(func(t *testing.T, doc []byte, cyclonedx bool) {
		kind := KindSPDX
		if cyclonedx {
			kind = KindCycloneDX
		}
		if checkSBOM(doc, kind) != nil {
			return
		}
		rds, err := provenanceSubjects(subjects)
		if err != nil {
			t.Fatal(err)
		}
		st, err := encodeStatement(rds, kind.PredicateType(), doc)
		if err != nil {
			t.Fatalf("accepted document does not encode: %v", err)
		}
		var back statementJSON
		if err := json.Unmarshal(st, &back); err != nil {
			t.Fatalf("statement is not JSON: %v", err)
		}
		var want bytes.Buffer
		_ = json.Compact(&want, doc)
		if !bytes.Equal(back.Predicate, want.Bytes()) {
			t.Fatalf("predicate changed:\n%s\nwant\n%s", back.Predicate, want.Bytes())
		}
	})
}
