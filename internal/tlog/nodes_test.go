package tlog

import (
	"context"
	"slices"
	"testing"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
)

// TestNodesMatchProofBuilder checks the memoizing proof builder against
// tessera's for every index of a tree spanning full and partial tiles on two
// levels.
func TestNodesMatchProofBuilder(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	for i := range 700 {
		l.appender.Add(context.Background(), tessera.NewEntry([]byte{byte(i), byte(i >> 8)}))
	}
	r, err := l.Append(context.Background(), testEntry(t, 1, "a", "a"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := r.Tree(l.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	n := newNodes(cp.Size, l.reader.ReadTile)
	pb, err := client.NewProofBuilder(context.Background(), cp.Size, l.reader.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size < 701 {
		t.Fatalf("tree size %d, want at least 701", cp.Size)
	}
	for i := range cp.Size {
		got, err := n.inclusion(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pb.InclusionProof(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("proof of %d in %d differs from tessera's", i, cp.Size)
		}
	}
	if _, err := newNodes(cp.Size, l.reader.ReadTile).inclusion(context.Background(), cp.Size); err == nil {
		t.Fatal("a proof of an index beyond the tree")
	}
}
