package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/slipway/actions/internal/store"
)

func rejection(index uint64, created int64, repository string) store.Rejection {
	return store.Rejection{LogIndex: index, Created: at(created), ReleaseID: fmt.Sprintf("r-%016x", index),
		ManifestDigest: fmt.Sprintf("sha256:%064x", index), Repository: repository, Uploader: "token:ci/abc",
		Check: "signature", Subject: "app.tar.gz", Detail: "FAIL signature  app.tar.gz: no trusted signer (sign with a key the policy trusts)"}
}

// Rejections read back as written, list newest first by (created, log index) compared as numbers, by
// repository and time, in keyset pages; a log index is recorded once.
func testRejections(t *testing.T, s store.Store) {
	for _, r := range []store.Rejection{
		rejection(2, 60, "github.com/acme/app"),
		rejection(9, 61, "github.com/acme/app"),
		rejection(10, 61, "github.com/acme/lib"), // the same millisecond as 9: 10 is newer, as a number
		rejection(11, 62, ""),
	} {
		if err := s.CreateRejection(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateRejection(ctx(), rejection(9, 70, "x")); !errors.Is(err, store.ErrExists) {
		t.Errorf("a log index recorded twice: %v, want ErrExists", err)
	}
	all, err := s.Rejections(ctx(), store.RejectionQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || !reflect.DeepEqual(all[2], rejection(9, 61, "github.com/acme/app")) {
		t.Fatalf("read back %+v", all)
	}
	indexes := func(q store.RejectionQuery) string {
		list, err := s.Rejections(ctx(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, r := range list {
			out = append(out, r.LogIndex)
		}
		return fmt.Sprint(out)
	}
	page := store.RejectionCursor(rejection(10, 61, ""))
	for _, c := range []struct {
		q    store.RejectionQuery
		want string
	}{
		{store.RejectionQuery{Limit: 10}, "[11 10 9 2]"},
		{store.RejectionQuery{Repository: "github.com/acme/app", Limit: 10}, "[9 2]"},
		{store.RejectionQuery{Since: at(61), Until: at(62), Limit: 10}, "[10 9]"},
		{store.RejectionQuery{After: &page, Limit: 1}, "[9]"},
		{store.RejectionQuery{After: &page, Limit: 10}, "[9 2]"},
		{store.RejectionQuery{Repository: "github.com/none/x", Limit: 10}, "[]"},
	} {
		if got := indexes(c.q); got != c.want {
			t.Errorf("%+v: %s, want %s", c.q, got, c.want)
		}
	}
	if _, err := s.Rejections(ctx(), store.RejectionQuery{}); err == nil {
		t.Error("a zero limit was accepted")
	}
}
