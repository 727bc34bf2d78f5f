package canonjson_test

import (
	"bytes"
	"testing"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"

	"github.com/slipway/actions/internal/canonjson"
)

var cases = []string{
	`{}`, `[]`, `""`, `0`, `-1`, `true`, `false`, `null`, `[0,-1,true,false,null,""]`,
	` { "b" : 1 , "a" : [ 1 , "x" , null , { } ] } `,
	`{"z":{"y":2,"x":1},"a":"\u00e9\n\t\"\\\/\u0001\u001f\u007f<>&"}`,
	`{"\ud83d\ude00":1,"\ue000":2,"a":3}`, // UTF-16 order: the surrogate pair sorts before U+E000
	`{"a":1.5}`, `{"a":1e3}`, `{"a":-0}`, `{"a":1234567890123456789}`, `{"a":123456789012345}`,
	`{"a":"\ud800"}`, `{"a":1,"a":2}`, `{"a":01}`, `{"a":1} x`, `{"a":"raw` + "\x01" + `"}`, "\"\xff\"",
	`[1,]`, `{"a":1,}`, `{`, `[`, `"\u12"`, `"\x"`, `{"a" 1}`, `[1 2]`,
	`{"manifest":{"records":[{"name":"dist/a.bin","size":1024,"digest":"sha256:00"}],"mediaType":"application/vnd.slipway.manifest.v1+json"}}`,
}

func check(t *testing.T, in []byte) {
	t.Helper()
	want, werr := jsoncanonicalizer.Transform(in)
	got, gerr := canonjson.Transform(in)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("Transform(%q): error %v, the reference implementation's %v", in, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Transform(%q) = %q, the reference implementation writes %q", in, got, want)
	}
}

// TestTransformAsReference: the same bytes, or the same error, as the
// reference implementation, for documents handled here and handed over.
func TestTransformAsReference(t *testing.T) {
	t.Parallel()
	for _, c := range cases {
		check(t, []byte(c))
	}
}

// FuzzTransform: for any input, the output (or error) is the reference
// implementation's.
func FuzzTransform(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, in []byte) { check(t, in) })
}

func BenchmarkTransform(b *testing.B) {
	in := []byte(cases[len(cases)-1])
	b.Run("canonjson", func(b *testing.B) {
		for b.Loop() {
			canonjson.Transform(in)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			jsoncanonicalizer.Transform(in)
		}
	})
}
