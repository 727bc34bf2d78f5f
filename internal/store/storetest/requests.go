package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/slipway/actions/internal/store"
)

func request(id, releaseID string, created int64) store.DispatchRequest {
	return store.DispatchRequest{ID: id, ReleaseID: releaseID, Job: []byte(`{"command":"./app"}`), Requester: "token:agent/abc",
		Reason: "nightly run", Created: at(created), State: store.RequestPending}
}

// A request is recorded pending, listed newest first by state, and decided once: a second decision from
// pending finds it changed.
func testDispatchRequests(t *testing.T, s store.Store) {
	if err := s.CreateRelease(ctx(), release("r-q", "sha256:e0")); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"q-a", "q-b", "q-c"} {
		if err := s.CreateDispatchRequest(ctx(), request(id, "r-q", int64(30+i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DispatchRequest(ctx(), "q-a")
	if err != nil {
		t.Fatal(err)
	}
	if want := request("q-a", "r-q", 30); !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
	approved := store.DispatchRequest{State: store.RequestApproved, Decider: "token:admin/def", Decided: at(40)}
	if err := s.DecideDispatchRequest(ctx(), "q-b", store.RequestPending, approved); err != nil {
		t.Fatal(err)
	}
	submitted := approved
	submitted.DispatchID = "d-1"
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"the same id again", s.CreateDispatchRequest(ctx(), request("q-a", "r-q", 1)), store.ErrExists},
		{"an unknown release", s.CreateDispatchRequest(ctx(), request("q-x", "r-none", 1)), store.ErrNotFound},
		{"a missing request", func() error { _, err := s.DispatchRequest(ctx(), "q-none"); return err }(), store.ErrNotFound},
		{"deciding a missing request", s.DecideDispatchRequest(ctx(), "q-none", store.RequestPending, approved), store.ErrNotFound},
		{"approving an approved request", s.DecideDispatchRequest(ctx(), "q-b", store.RequestPending, approved), store.ErrStateChanged},
		{"recording its dispatch", s.DecideDispatchRequest(ctx(), "q-b", store.RequestApproved, submitted), nil},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got, _ := s.DispatchRequest(ctx(), "q-b"); got.State != store.RequestApproved || got.DispatchID != "d-1" || got.Decider != "token:admin/def" || !got.Decided.Equal(at(40)) {
		t.Errorf("decided request: %+v", got)
	}
	ids := func(q store.DispatchRequestQuery) string {
		list, err := s.DispatchRequests(ctx(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.ID)
		}
		return fmt.Sprint(out)
	}
	first := store.Cursor{Created: at(32), ID: "q-c"}
	for _, c := range []struct {
		q    store.DispatchRequestQuery
		want string
	}{
		{store.DispatchRequestQuery{Limit: 10}, "[q-c q-b q-a]"},
		{store.DispatchRequestQuery{State: store.RequestPending, Limit: 10}, "[q-c q-a]"},
		{store.DispatchRequestQuery{Limit: 1}, "[q-c]"},
		{store.DispatchRequestQuery{After: &first, Limit: 1}, "[q-b]"},
		{store.DispatchRequestQuery{State: store.RequestDenied, Limit: 10}, "[]"},
	} {
		if got := ids(c.q); got != c.want {
			t.Errorf("%+v: %s, want %s", c.q, got, c.want)
		}
	}
	if _, err := s.DispatchRequests(ctx(), store.DispatchRequestQuery{}); err == nil {
		t.Error("a zero limit was accepted")
	}
}

// Dispatches list newest first, by release, in keyset pages.
func testListDispatches(t *testing.T, s store.Store) {
	for _, r := range []string{"r-l1", "r-l2"} {
		if err := s.CreateRelease(ctx(), release(r, "sha256:"+r)); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct{ id, release string }{{"d-1", "r-l1"}, {"d-2", "r-l2"}, {"d-3", "r-l1"}, {"d-4", "r-l1"}} {
		d := dispatch(c.id, c.release, false)
		d.Created = at(int64(50 + min(i, 2))) // d-3 and d-4 at the same millisecond: ordered by id
		if err := s.CreateDispatch(ctx(), d); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(q store.DispatchQuery) string {
		list, err := s.ListDispatches(ctx(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range list {
			out = append(out, d.ID)
		}
		return fmt.Sprint(out)
	}
	page := store.Cursor{Created: at(52), ID: "d-4"}
	for _, c := range []struct {
		q    store.DispatchQuery
		want string
	}{
		{store.DispatchQuery{Limit: 10}, "[d-4 d-3 d-2 d-1]"},
		{store.DispatchQuery{ReleaseID: "r-l1", Limit: 10}, "[d-4 d-3 d-1]"},
		{store.DispatchQuery{After: &page, Limit: 2}, "[d-3 d-2]"},
		{store.DispatchQuery{ReleaseID: "r-none", Limit: 10}, "[]"},
	} {
		if got := ids(c.q); got != c.want {
			t.Errorf("%+v: %s, want %s", c.q, got, c.want)
		}
	}
}
