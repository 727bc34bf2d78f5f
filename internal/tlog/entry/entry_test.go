package entry

import (
	"strings"
	"testing"
	"time"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const hexB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func admitted() Entry {
	return Entry{
		Kind: KindReleaseAdmitted, Decision: DecisionAdmitted,
		Release: "r-1", Source: "github.com/acme/app", Uploader: "ci-token",
		Time:      time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		Artifacts: []Subject{{Name: "dist/app", SHA256: hexA}},
		Evidence:  []Evidence{{Describes: hexA, Name: "dist/app.sigstore.json", Role: "signature", SHA256: hexB}},
	}
}

func TestMarshalCanonical(t *testing.T) {
	t.Parallel()
	got, err := Marshal(admitted())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"admitted","evidence":[{"describes":"` + hexA +
		`","name":"dist/app.sigstore.json","role":"signature","sha256":"` + hexB + `"}],"kind":"release-admitted","release":"r-1",` +
		`"source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"ci-token","version":1}`
	if string(got) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, want)
	}
	e, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := e.Digest("dist/app"); !ok || d != hexA {
		t.Fatalf("Digest(dist/app) = %q, %v", d, ok)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	good, err := Marshal(admitted())
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	rejected := admitted()
	rejected.Kind, rejected.Decision, rejected.Check = KindReleaseRejected, DecisionRejected, "provenance"
	rej, err := Marshal(rejected)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(rej); err != nil {
		t.Fatalf("rejected entry: %v", err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown version", strings.Replace(g, `"version":1`, `"version":2`, 1), "version 2; this slipway reads version 1"},
		{"no version", strings.Replace(g, `,"version":1`, ``, 1), `no field "version"`},
		{"unknown field", strings.Replace(g, `"version":1`, `"version":1,"zz":1`, 1), "unknown field"},
		{"whitespace", strings.Replace(g, `"kind":`, `"kind": `, 1), "canonical"},
		{"key order", `{"version":1,` + strings.TrimPrefix(strings.Replace(g, `,"version":1`, ``, 1), "{"), "canonical"},
		{"not utc", strings.Replace(g, `2026-12-05T01:02:03Z`, `2026-12-05T01:02:03+00:00`, 1), "UTC"},
		{"unknown kind", strings.Replace(g, `release-admitted`, `dispatch`, 1), `kind "dispatch"`},
		{"decision mismatch", strings.Replace(g, `"decision":"admitted"`, `"decision":"rejected"`, 1), "decision"},
		{"bad digest", strings.Replace(g, `"sha256":"`+hexA, `"sha256":"`+strings.ToUpper(hexA), 1), "lowercase hex"},
		{"trailing data", g + "{}", "after top-level value"},
		{"not json", "c2sp", "JSON object"},
		{"rejected without check", strings.Replace(string(rej), `"check":"provenance",`, ``, 1), `"check"`},
		{"no uploader", strings.Replace(g, `"uploader":"ci-token"`, `"uploader":""`, 1), "uploader"},
		{"too large", strings.Repeat(" ", MaxSize+1), "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMarshalRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Entry)
		want string
	}{
		{"no artifacts", func(e *Entry) { e.Artifacts = nil }, "at least one artifact"},
		{"duplicate artifact", func(e *Entry) { e.Artifacts = append(e.Artifacts, e.Artifacts[0]) }, "twice"},
		{"check on admitted", func(e *Entry) { e.Check = "x" }, "only rejections"},
		{"no release", func(e *Entry) { e.Release = "" }, `"release"`},
		{"no time", func(e *Entry) { e.Time = time.Time{} }, `"time"`},
		{"service token as uploader", func(e *Entry) { e.Uploader = "slw_abcdef_0123456789" }, "never its token"},
		{"jwt as uploader", func(e *Entry) { e.Uploader = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }, "never its token"},
		{"evidence without role", func(e *Entry) { e.Evidence[0].Role = "" }, "empty role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := admitted()
			tc.edit(&e)
			if _, err := Marshal(e); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Marshal error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	good, err := Marshal(admitted())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Marshal(*e)
		if err != nil {
			t.Fatalf("Parse accepted what Marshal refuses: %v", err)
		}
		if string(again) != string(data) {
			t.Fatalf("Parse accepted a non-canonical entry:\n%q\n%q", data, again)
		}
	})
}
