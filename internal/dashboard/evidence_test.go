package dashboard

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseCheck(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]check{
		`PASS signature  app.bin.sigstore.json: sigstore bundle signed by key SHA256:x (policy key "release")`: {"PASS", "signature", "app.bin.sigstore.json", `sigstore bundle signed by key SHA256:x (policy key "release")`},
		`FAIL builder    app.bin.intoto.sigstore.json: provenance builder "x" is not in policy builders [y]`:   {"FAIL", "builder", "app.bin.intoto.sigstore.json", `provenance builder "x" is not in policy builders [y]`},
		`PASS uploader   token:ci/abc: the policy has no uploader rules`:                                       {"PASS", "uploader", "token:ci/abc", "the policy has no uploader rules"},
		`WARN age        app.bin`: {"WARN", "age", "", "app.bin"},
		`free text`:               {"", "", "", "free text"},
		``:                        {"", "", "", ""},
	} {
		if got := parseCheck(line); got != want {
			t.Errorf("parseCheck(%q) = %+v, want %+v", line, got, want)
		}
	}
}

// provBundle is a Sigstore bundle whose DSSE payload is statement.
func provBundle(statement string) []byte {
	return []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"` +
		base64.StdEncoding.EncodeToString([]byte(statement)) + `","signatures":[]}}`)
}

func TestParseProvenance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, statement string
		want            provSummary
		err             string
	}{
		{"git dependency", `{"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"bt","resolvedDependencies":[{"uri":"oci://x"},{"uri":"git+https://github.com/acme/app@refs/tags/v1","digest":{"gitCommit":"abc"}}]},"runDetails":{"builder":{"id":"https://b"}}}}`,
			provSummary{BuildType: "bt", Builder: "https://b", Source: "git+https://github.com/acme/app", Ref: "refs/tags/v1", Commit: "abc"}, ""},
		{"external parameters", `{"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"bt","externalParameters":{"repository":"https://github.com/acme/lib"}},"runDetails":{"builder":{"id":"b"}}}}`,
			provSummary{BuildType: "bt", Builder: "b", Source: "https://github.com/acme/lib"}, ""},
		{"another predicate", `{"predicateType":"https://cyclonedx.org/bom","predicate":{}}`, provSummary{}, "not SLSA v1 provenance"},
		{"not json", `{`, provSummary{}, "not JSON"},
	} {
		got, err := parseProvenance(bytes.NewReader(provBundle(c.statement)))
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %+v, %v; want %+v, %q", c.name, got, err, c.want, c.err)
		}
	}
	if _, err := parseProvenance(strings.NewReader(`{"messageSignature":{}}`)); err == nil || !strings.Contains(err.Error(), "no DSSE envelope") {
		t.Errorf("a signature bundle: %v", err)
	}
}

func TestParseSBOM(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, doc, err string }{
		{"neither", `{"foo":1}`, "neither CycloneDX"},
		{"not json", `[`, "not JSON"},
		{"bad cyclonedx", `{"bomFormat":"CycloneDX","components":"x"}`, "does not parse"},
		{"bad spdx", `{"spdxVersion":"SPDX-2.3","packages":"x"}`, "does not parse"},
	} {
		if _, err := parseSBOM(strings.NewReader(c.doc)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
	}
	s, err := parseSBOM(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`))
	if err != nil || s.Components != 0 || s.Format != "CycloneDX 1.5" {
		t.Errorf("an empty CycloneDX SBOM: %+v, %v", s, err)
	}
}

func TestSummariesBounded(t *testing.T) {
	t.Parallel()
	c := newSummaries(2)
	c.put("a", 1)
	c.put("b", 2)
	c.put("a", 9) // kept, not replaced
	c.put("c", 3) // a goes
	if _, ok := c.get("a"); ok {
		t.Error("the oldest entry was kept past the bound")
	}
	for k, want := range map[string]int{"b": 2, "c": 3} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get(%q) = %v, %v", k, v, ok)
		}
	}
}

// FuzzParseProvenance: any bundle either parses or is refused with an
// error; never a panic.
func FuzzParseProvenance(f *testing.F) {
	f.Add(provBundle(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"resolvedDependencies":[{"uri":"git+x@y","digest":{"sha1":"z"}}]}}}`))
	f.Add([]byte(`{"dsseEnvelope":{"payload":"!!"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseProvenance(bytes.NewReader(b))
		parseProvenance(bytes.NewReader(provBundle(string(b))))
	})
}

// FuzzParseSBOM: any document either gives a summary whose license
// counts add up, or an error; never a panic.
func FuzzParseSBOM(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","licenses":[{"license":{"id":"MIT"}}],"components":[{"name":"b"}]}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"x","licenseConcluded":"MIT"},{"name":"y"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSBOM(bytes.NewReader(b))
		if err != nil {
			return
		}
		if s.Unlicensed > s.Components {
			t.Errorf("%d unlicensed of %d components", s.Unlicensed, s.Components)
		}
	})
}

// FuzzParseCheck: a line's parts are found in it; never a panic.
func FuzzParseCheck(f *testing.F) {
	f.Add(`PASS signature  a: b`)
	f.Fuzz(func(t *testing.T, line string) {
		c := parseCheck(line)
		for _, part := range []string{c.Status, c.Name, c.Subject, c.Detail} {
			if !strings.Contains(line, part) {
				t.Errorf("parseCheck(%q) = %+v: %q is not in the line", line, c, part)
			}
		}
	})
}
