package tlog

import (
	"context"
	"strings"
	"testing"

	"github.com/transparency-dev/tessera"
)

// CheckEntries accepts a log whose entries hash to its checkpoint's root
// (over more than one entry bundle) and refuses another root or size.
func TestCheckEntries(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	for i := range 300 {
		l.appender.Add(context.Background(), tessera.NewEntry([]byte{byte(i)}))
	}
	r, err := l.Append(context.Background(), testEntry(t, 1, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := r.Tree(l.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := CheckEntries(ctx, l.EntryBundles(), cp.Size, cp.Hash); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), cp.Hash...)
	bad[0] ^= 1
	if err := CheckEntries(ctx, l.EntryBundles(), cp.Size, bad); err == nil || !strings.Contains(err.Error(), "the log is damaged") {
		t.Errorf("a wrong root: %v", err)
	}
	if err := CheckEntries(ctx, l.EntryBundles(), cp.Size-1, cp.Hash); err == nil {
		t.Error("a wrong size: no error")
	}
}
