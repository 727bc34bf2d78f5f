package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/provenance"
)

// TestEncodeBundle holds encodeBundle to the bytes of json.Marshal and a
// newline, the encoding bundles had before it: for a signed bundle of a
// large payload, and for one whose strings hold what json.Marshal escapes
// for HTML and protojson does not.
func TestEncodeBundle(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	tests := []struct {
		name        string
		payload     string
		payloadType string
	}{
		{"small", `{"a":1}`, provenance.PayloadType},
		{"large", `{"passedTests":["` + strings.Repeat(`tests.test_module/test_case[param-1]","`, 12000) + `"]}`, provenance.PayloadType},
		{"large, html", `{"passedTests":["` + strings.Repeat(`a/b","`, 2000) + `"]}`, "application/x<y>&z"},
		{"html", `{"a":"<b>"}`, "application/x<y>&z"},
		{"ampersand", `{}`, "application/x&z"},
		{"line separator", `{}`, "application/x\u2028"},
		{"paragraph separator", `{}`, "application/x\u2029"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := s.SignDSSE(context.Background(), provenance.PayloadType, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			b.GetDsseEnvelope().PayloadType = tt.payloadType
			got, err := encodeBundle(b)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.GetDsseEnvelope().GetPayload(), []byte(tt.payload)) {
				t.Error("encodeBundle() left the bundle's payload changed")
			}
			if want = append(want, '\n'); !bytes.Equal(got, want) {
				t.Errorf("encodeBundle() =\n%.400s\nwant (json.Marshal)\n%.400s", got, want)
			}
		})
	}
}

// TestPredicateAppend: a predicate appended by the caller into the
// statement's buffer makes the statement a predicate given as bytes does,
// whether the room made for it was enough or not.
func TestPredicateAppend(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	pred := `{"result":"PASSED","passedTests":["a/<b>&c","é"],"n":12345678901234567890}`
	statement := func(t *testing.T, p PredicateOptions) []byte {
		t.Helper()
		w := newWorkspace(t)
		p.Dir, p.Manifest, p.PredicateType, p.Name, p.Signer = w.dir, "dist/manifest.json", testResultType, "test-result", s
		res, err := Predicate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		_, payload, err := openEnvelope(t, readBundle(t, filepath.Join(w.dir, filepath.FromSlash(res.BundlePath))), s.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		return payload
	}
	want := statement(t, PredicateOptions{Predicate: []byte(pred)})
	for _, size := range []int{0, len(pred) - 1, len(pred), 4 * len(pred)} {
		got := statement(t, PredicateOptions{PredicateSize: size, AppendPredicate: func(b []byte) []byte { return append(b, pred...) }})
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: statement\n%s\nwant\n%s", size, got, want)
		}
	}
}

// TestCompactJSON: compactJSON writes what json.Marshal writes for the same
// JSON (json.Compact, and the HTML escapes it reports instead of writing).
func TestCompactJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{}`,
		`{ "a" : 1 , "b" :[ 1, 2 ,{ } ] }`,
		"{\n\t\"a\":\r\n \"x  y\"}",
		`{"q": "a \" b", "bs": "c \\", "after": [ true , null ]}`,
		`{"u": "é \u00e9 日本 \\u2028"}`,
		`{"html": "a<b"}`,
		`{"amp": "a&b"}`,
		`{"gt": ["x" , "b>"]}`,
		"{\"ls\": \"a\u2028b\"}",
		"{\"ps\": \"a\u2029b\"}",
		"{\"near\": \"\u2027\u202a\"}",
	} {
		want, err := json.Marshal(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := compactJSON([]byte(in))
		if escapes := !bytes.Equal(want, compactOnly(t, in)); ok == escapes || ok && !bytes.Equal(got, want) {
			t.Errorf("compactJSON(%s) = %s, %v; json.Marshal writes %s", in, got, ok, want)
		}
	}
}

// compactOnly is json.Compact's output, without json.Marshal's HTML escapes.
func compactOnly(t *testing.T, in string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(in)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
