package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/slipway/actions/internal/store"
)

func intent(key, kind string, created int64) store.Intent {
	return store.Intent{Key: key, Kind: kind, Created: at(created), Owner: "host.example:/var/lib/slipway", LogSize: 1<<40 + 1,
		Entry: []byte(`{"kind":"` + kind + `"}` + "\x00\xff"), Record: []byte(`{"ID":"` + key + `"}`)}
}

// Intents read back as written, oldest first; a key is pending once; the
// row an intent becomes removes it in its own transaction (a release, a
// rejection, a dispatch, an authorization), and only the intent of its
// kind; HighestLogIndex spans every table of logged records.
func testIntents(t *testing.T, s store.Store) {
	if _, ok, err := s.HighestLogIndex(ctx()); err != nil || ok {
		t.Fatalf("HighestLogIndex of an empty store: ok %v, %v", ok, err)
	}
	want := []store.Intent{
		intent("sha256:a1", store.IntentRelease, 1),
		intent("sha256:b2", store.IntentRejection, 2),
		intent("d-0000000000000001", store.IntentDispatch, 3),
		intent("a-0000000000000001", store.IntentAuthorization, 4),
	}
	for _, i := range want {
		if err := s.CreateIntent(ctx(), i); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateIntent(ctx(), intent("sha256:a1", store.IntentRejection, 9)); !errors.Is(err, store.ErrExists) {
		t.Errorf("a pending key again: %v, want ErrExists", err)
	}
	if got, err := s.Intent(ctx(), "sha256:b2"); err != nil || !reflect.DeepEqual(got, want[1]) {
		t.Errorf("Intent = %+v, %v; want %+v", got, err, want[1])
	}
	if _, err := s.Intent(ctx(), "sha256:none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Intent of no intent: %v, want ErrNotFound", err)
	}
	if got, err := s.PendingIntents(ctx()); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("PendingIntents = %+v, %v; want %+v", got, err, want)
	}

	// A rejection of manifest a1 leaves a1's release intent alone.
	rej := rejection(5, 5, "")
	rej.ManifestDigest = "sha256:a1"
	if err := s.CreateRejection(ctx(), rej); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intent(ctx(), "sha256:a1"); err != nil {
		t.Errorf("a rejection removed the release intent of its manifest: %v", err)
	}
	rel := release("r-a1", "sha256:a1")
	rel.LogIndex = 7
	if err := s.CreateRelease(ctx(), rel); err != nil {
		t.Fatal(err)
	}
	rej = rejection(6, 6, "")
	rej.ManifestDigest = "sha256:b2"
	if err := s.CreateRejection(ctx(), rej); err != nil {
		t.Fatal(err)
	}
	d := dispatch("d-0000000000000001", "r-a1", false)
	d.LogIndex = 8
	if err := s.CreateDispatch(ctx(), d); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PendingIntents(ctx()); err != nil || !reflect.DeepEqual(got, want[3:]) {
		t.Fatalf("after the release, rejection and dispatch: PendingIntents = %+v, %v; want only %+v", got, err, want[3:])
	}
	a := store.DispatchAuthorization{ID: "a-0000000000000001", ReleaseID: "r-a1", RunID: "r", Fingerprint: "f", Requester: "x",
		Created: at(9), LogIndex: 3}
	if err := s.CreateDispatchAuthorization(ctx(), a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PendingIntents(ctx()); err != nil || len(got) != 0 {
		t.Fatalf("after the authorization: PendingIntents = %+v, %v; want none", got, err)
	}
	if high, ok, err := s.HighestLogIndex(ctx()); err != nil || !ok || high != 8 {
		t.Errorf("HighestLogIndex = %d, %v, %v; want 8 (the dispatch)", high, ok, err)
	}
	if n, err := s.CountLogIndexes(ctx()); err != nil || n != 5 {
		t.Errorf("CountLogIndexes = %d, %v; want 5", n, err)
	}
	var seen []uint64
	if err := s.VisitLogIndexes(ctx(), func(i uint64) { seen = append(seen, i) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []uint64{3, 5, 6, 7, 8}) {
		t.Errorf("VisitLogIndexes visited %v, want 3 (authorization), 5 and 6 (rejections), 7 (release), 8 (dispatch)", seen)
	}

	// A row that was recorded before its intent was finished: the intent
	// is removed by key and kind, and a missing one is no error.
	if err := s.CreateIntent(ctx(), intent("sha256:c3", store.IntentRelease, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIntent(ctx(), "sha256:c3", store.IntentRejection); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intent(ctx(), "sha256:c3"); err != nil {
		t.Errorf("DeleteIntent of another kind removed it: %v", err)
	}
	for range 2 {
		if err := s.DeleteIntent(ctx(), "sha256:c3", store.IntentRelease); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Intent(ctx(), "sha256:c3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after DeleteIntent: %v, want ErrNotFound", err)
	}
}
