package receipt

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// twoLeafLog signs a checkpoint of a two-entry tree with a new key for
// origin and returns receipts for both entries and the verifier.
func twoLeafLog(t testing.TB, origin string, e0, e1 []byte) ([2]*Receipt, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	h := rfc6962.DefaultHasher
	l0, l1 := h.HashLeaf(e0), h.HashLeaf(e1)
	root := h.HashChildren(l0, l1)
	cp, err := note.Sign(&note.Note{Text: string(log.Checkpoint{Origin: origin, Size: 2, Hash: root}.Marshal())}, s)
	if err != nil {
		t.Fatal(err)
	}
	return [2]*Receipt{
		{Index: 0, Hashes: [][sha256.Size]byte{[sha256.Size]byte(l1)}, Checkpoint: cp, Entry: e0},
		{Index: 1, Hashes: [][sha256.Size]byte{[sha256.Size]byte(l0)}, Checkpoint: cp, Entry: e1},
	}, v
}

func TestVerify(t *testing.T) {
	t.Parallel()
	e0, e1 := []byte(`{"a":0}`), []byte(`{"a":1}`)
	rs, v := twoLeafLog(t, "slipway.test/log", e0, e1)
	_, otherV := twoLeafLog(t, "slipway.test/log", e0, e1)
	_, otherOrigin := twoLeafLog(t, "other.test/log", e0, e1)
	clone := func(r *Receipt, edit func(*Receipt)) *Receipt {
		c := *r
		c.Hashes = append([][sha256.Size]byte(nil), r.Hashes...)
		edit(&c)
		return &c
	}
	for _, tc := range []struct {
		name  string
		r     *Receipt
		entry []byte
		v     note.Verifier
		want  error
	}{
		{"first entry", rs[0], nil, v, nil},
		{"second entry given separately", rs[1], e1, v, nil},
		{"entry only given", clone(rs[1], func(r *Receipt) { r.Entry = nil }), e1, v, nil},
		{"other log's key", rs[0], nil, otherV, ErrSignature},
		{"other origin's key", rs[0], nil, otherOrigin, ErrSignature},
		{"entry of another index", rs[0], e1, v, ErrEntry},
		{"no entry anywhere", clone(rs[0], func(r *Receipt) { r.Entry = nil }), nil, v, ErrEntry},
		{"tampered entry", clone(rs[0], func(r *Receipt) { r.Entry = []byte(`{"a":2}`) }), nil, v, ErrInclusion},
		{"wrong index", clone(rs[0], func(r *Receipt) { r.Index = 1 }), nil, v, ErrInclusion},
		{"index beyond tree", clone(rs[0], func(r *Receipt) { r.Index = 7 }), nil, v, ErrInclusion},
		{"tampered proof", clone(rs[0], func(r *Receipt) { r.Hashes[0][0] ^= 1 }), nil, v, ErrInclusion},
		{"extra proof hash", clone(rs[0], func(r *Receipt) { r.Hashes = append(r.Hashes, r.Hashes[0]) }), nil, v, ErrInclusion},
		{"tampered checkpoint", clone(rs[0], func(r *Receipt) {
			r.Checkpoint = []byte(strings.Replace(string(r.Checkpoint), "\n2\n", "\n3\n", 1))
		}), nil, v, ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Through the text form, as a receipt file would be read.
			r, err := Parse(tc.r.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			err = Verify(r, tc.entry, tc.v)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), ": ") {
				t.Fatalf("error %q does not say what to do", err)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	rs, _ := twoLeafLog(t, "slipway.test/log", []byte("a"), []byte("b"))
	good := string(rs[1].Marshal())
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "missing expected header"},
		{"other header", strings.Replace(good, "@v1", "@v2", 1), "missing expected header"},
		{"leading zero", strings.Replace(good, "index 1\n", "index 01\n", 1), "not in the form"},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), ""},
		{"no final newline", strings.TrimSuffix(good, "\n"), "not in the form"},
		{"no checkpoint", good[:strings.Index(good, "\n\n")+2], "no checkpoint"},
		{"bad hash", strings.Replace(good, "index 1\n", "index 1\nAAAA\n", 1), "hash length"},
		{"bad extra", strings.Replace(good, "extra ", "extra !", 1), "base64"},
		{"huge", good + strings.Repeat("x", MaxSize), "over the limit"},
		{"negative index", strings.Replace(good, "index 1\n", "index -1\n", 1), "index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewVerifier("not a key"); err == nil || !strings.Contains(err.Error(), "/api/v1/log/key") {
		t.Fatalf("NewVerifier = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	rs, v := twoLeafLog(f, "slipway.test/log", []byte("a"), []byte("b"))
	f.Add(rs[0].Marshal())
	f.Add(rs[1].Marshal())
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		if string(r.Marshal()) != string(data) {
			t.Fatalf("Parse accepted a receipt it would not write:\n%q", data)
		}
		_ = Verify(r, nil, v) // must not panic
	})
}
