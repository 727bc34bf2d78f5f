package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/store"
)

func dispatch(id, releaseID string, submitted bool) store.Dispatch {
	return store.Dispatch{ID: id, ReleaseID: releaseID, RunID: "slipway:v1:run=1.1:job=j:release=" + releaseID + ":spec=00", JobID: "4711",
		Cluster: "hpc1", Partition: "debug", BuilderID: "https://hpc.example/runner", Requester: "token:hpc/abc", Created: at(10),
		LogIndex: 1<<40 + 3, LogEntry: []byte(`{"kind":"dispatch-recorded"}` + "\x00\xff"), Receipt: []byte("c2sp.org/tlog-proof@v1\n"),
		Submitted: submitted, State: store.DispatchState{ExitCode: -1}}
}

func testDispatchRoundTrip(t *testing.T, s store.Store) {
	if err := s.CreateRelease(ctx(), release("r-d", "sha256:d0")); err != nil {
		t.Fatal(err)
	}
	recorded := dispatch("d-recorded", "r-d", false)
	bare := store.Dispatch{ID: "d-bare", ReleaseID: "r-d", RunID: "r", JobID: "1", Requester: "x", Created: at(11),
		State: store.DispatchState{ExitCode: -1}}
	for _, d := range []store.Dispatch{recorded, bare} {
		if err := s.CreateDispatch(ctx(), d); err != nil {
			t.Fatal(err)
		}
		got, err := s.Dispatch(ctx(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(emptyAsNil(got), emptyAsNil(d)) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, d)
		}
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"the same id again", s.CreateDispatch(ctx(), dispatch("d-recorded", "r-d", true)), store.ErrExists},
		{"an unknown release", s.CreateDispatch(ctx(), dispatch("d-orphan", "r-none", false)), store.ErrNotFound},
		{"a missing dispatch", func() error { _, err := s.Dispatch(ctx(), "d-none"); return err }(), store.ErrNotFound},
		{"ids are case-sensitive", func() error { _, err := s.Dispatch(ctx(), "D-RECORDED"); return err }(), store.ErrNotFound},
		{"the state of a missing dispatch", s.SetDispatchState(ctx(), "d-none", store.DispatchState{State: "RUNNING"}), store.ErrNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got, _ := s.Dispatch(ctx(), "d-recorded"); got.Submitted {
		t.Error("a refused duplicate changed the first dispatch")
	}
}

// A submitted dispatch is followed until its state is final; a final state is kept.
func testDispatchState(t *testing.T, s store.Store) {
	if err := s.CreateRelease(ctx(), release("r-s", "sha256:d1")); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"d-b", "d-a", "d-recorded"} {
		d := dispatch(id, "r-s", id != "d-recorded")
		d.Created = at(int64(20 - i))
		if err := s.CreateDispatch(ctx(), d); err != nil {
			t.Fatal(err)
		}
	}
	unfinished := func() string {
		list, err := s.UnfinishedDispatches(ctx())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range list {
			ids = append(ids, d.ID)
		}
		return fmt.Sprint(ids)
	}
	if got := unfinished(); got != "[d-a d-b]" {
		t.Errorf("UnfinishedDispatches = %s, want [d-a d-b] (submitted ones, oldest first)", got)
	}
	running := store.DispatchState{State: "RUNNING", ExitCode: -1, Started: at(30), Node: "node[1-2]"}
	done := store.DispatchState{State: "COMPLETED", ExitCode: 0, Started: at(30), Ended: at(90), Final: true, Node: "node[1-2]"}
	for _, st := range []store.DispatchState{running, done, {State: "RUNNING", ExitCode: -1}} {
		if err := s.SetDispatchState(ctx(), "d-a", st); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Dispatch(ctx(), "d-a"); !reflect.DeepEqual(got.State, done) {
		t.Errorf("state after a final one and a later one: %+v, want the final %+v", got.State, done)
	}
	if got := unfinished(); got != "[d-b]" {
		t.Errorf("UnfinishedDispatches after d-a ended = %s, want [d-b]", got)
	}
	// Concurrent updates of several dispatches (followers of one server, replicas).
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			errs <- s.SetDispatchState(ctx(), "d-b", store.DispatchState{State: "RUNNING", ExitCode: -1, Started: at(int64(i))})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// emptyAsNil treats an empty log entry and receipt as none (a store may read back either).
func emptyAsNil(d store.Dispatch) store.Dispatch {
	if len(d.LogEntry) == 0 {
		d.LogEntry = nil
	}
	if len(d.Receipt) == 0 {
		d.Receipt = nil
	}
	return d
}

// An authorization reads back as written; its id is taken once; it needs its release.
func testDispatchAuthorization(t *testing.T, s store.Store) {
	if err := s.CreateRelease(ctx(), release("r-a", "sha256:d2")); err != nil {
		t.Fatal(err)
	}
	a := store.DispatchAuthorization{ID: "a-0123456789abcdef", ReleaseID: "r-a", RunID: "slipway:v1:run=1.1:job=j:release=r-a:spec=00",
		Fingerprint: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Cluster: "hpc1", Partition: "debug",
		BuilderID: "https://hpc.example/runner", Requester: "oidc:acme/app:acme/app/.github/workflows/hpc.yml@refs/heads/main",
		Created: at(40), LogIndex: 1<<40 + 9, LogEntry: []byte(`{"kind":"dispatch-authorized"}`), Receipt: []byte("c2sp.org/tlog-proof@v1\n")}
	if err := s.CreateDispatchAuthorization(ctx(), a); err != nil {
		t.Fatal(err)
	}
	got, err := s.DispatchAuthorization(ctx(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, a)
	}
	other := a
	other.Requester = "token:other/x"
	orphan := a
	orphan.ID, orphan.ReleaseID = "a-00000000000000ff", "r-none"
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"the same id again", s.CreateDispatchAuthorization(ctx(), other), store.ErrExists},
		{"an unknown release", s.CreateDispatchAuthorization(ctx(), orphan), store.ErrNotFound},
		{"a missing authorization", func() error { _, err := s.DispatchAuthorization(ctx(), "a-ffffffffffffffff"); return err }(), store.ErrNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got, _ := s.DispatchAuthorization(ctx(), a.ID); got.Requester != a.Requester {
		t.Errorf("a refused duplicate changed the first authorization: requester %q", got.Requester)
	}
}
