package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/mysql"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/testutil/mariadb"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// durable is a data directory a server is started on, stopped (a crash,
// as far as the store and the log can tell: nothing is finished for it)
// and started again: the log in DATA/log, the database in DATA/db.sqlite
// or a MariaDB database of its own.
type durable struct {
	data, pol, dsn string
}

// newDurable makes the data directory of a site on the policy pol, on
// SQLite or (mariaDB) a real MariaDB database.
func newDurable(t *testing.T, pol string, mariaDB bool) *durable {
	d := &durable{data: t.TempDir(), pol: pol}
	if mariaDB {
		d.dsn = mariadb.New(t)
	}
	return d
}

// start serves d until stop, its store wrapped by wrap (nil: as is), its
// server log written to logs (nil: discarded).
func (d *durable) start(t *testing.T, wrap func(store.Store) store.Store, logs io.Writer) (s *site, stop func()) {
	t.Helper()
	ctx := context.Background()
	p, err := policy.Load(d.pol)
	if err != nil {
		t.Fatal(err)
	}
	var db store.Store
	if d.dsn != "" {
		db, err = mysql.Open(ctx, d.dsn)
	} else {
		db, err = sqlite.Open(ctx, filepath.Join(d.data, "db.sqlite"))
	}
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.NewFS(filepath.Join(d.data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := tlog.Open(ctx, filepath.Join(d.data, "log"), tlog.Options{Origin: "test.example/log"})
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	tokens := token.NewManager(db, token.WithParams(token.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}))
	st := db
	if wrap != nil {
		st = wrap(db)
	}
	srv, err := server.New(server.Config{Store: st, Blobs: blobs, Auth: tokens, Policy: p, TLog: tl,
		Uploads: filepath.Join(d.data, "uploads"), Staging: filepath.Join(d.data, "staging"), Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		tl.Close(ctx)
		db.Close()
	}
	t.Cleanup(stop)
	setRouteTable(srv.Routes())
	url := "http://" + ln.Addr().String()
	// Serve repairs before it is ready.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if code, _, _ := do(t, "GET", url+"/readyz", "", nil); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server was not ready within 30 s")
		}
	}
	return &site{srv: srv, url: url, tl: tl, tokens: tokens}, stop
}

// failing is a store whose next write of a logged record fails (the
// request ends after its log entry, before its row: what a crash there
// leaves), once per kind armed.
type failing struct {
	store.Store
	release, rejection, dispatch atomic.Bool
}

var errCrash = errors.New("the database went away")

func (f *failing) CreateRelease(ctx context.Context, r store.Release) error {
	if f.release.CompareAndSwap(true, false) {
		return errCrash
	}
	return f.Store.CreateRelease(ctx, r)
}

func (f *failing) CreateRejection(ctx context.Context, r store.Rejection) error {
	if f.rejection.CompareAndSwap(true, false) {
		return errCrash
	}
	return f.Store.CreateRejection(ctx, r)
}

func (f *failing) CreateDispatch(ctx context.Context, d store.Dispatch) error {
	if f.dispatch.CompareAndSwap(true, false) {
		return errCrash
	}
	return f.Store.CreateDispatch(ctx, d)
}

// lostAdmission uploads a release of content and admits it with f's next
// CreateRelease failing: the log takes its entry, the row is lost (500).
// It returns the manifest.
func lostAdmission(t *testing.T, s *signer, site *site, f *failing, tok, content string) []byte {
	t.Helper()
	dir := t.TempDir()
	s.release(t, dir, []byte(content), testBuilder, testSource)
	manifest := uploadAll(t, site.url, tok, dir)
	f.release.Store(true)
	if code, a := admit(t, site.url, tok, manifest); code != http.StatusInternalServerError {
		t.Fatalf("admission whose row failed: %d %+v, want 500", code, a)
	}
	return manifest
}

// logEntries are the log's entries, parsed, by index.
func logEntries(t *testing.T, s *site) []*entry.Entry {
	t.Helper()
	n := treeSize(t, s)
	out := make([]*entry.Entry, n)
	for i := range n {
		rc, err := s.tl.Entry(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = entry.Parse(rc.Entry); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// entriesOf counts the entries of kind about release.
func entriesOf(es []*entry.Entry, kind entry.Kind, release string) int {
	n := 0
	for _, e := range es {
		if e.Kind == kind && e.Release == release {
			n++
		}
	}
	return n
}

var stores = []struct {
	name    string
	mariaDB bool
}{{"sqlite", false}, {"mariadb", true}}

// TestResendAfterCrash: a release admitted, or refused, whose row the
// store did not take after the log took its entry (a crash between the
// two) is answered, when the same manifest is sent again, with that first
// entry's index and receipt; the log holds exactly one entry for it, and
// the release (or the rejection) is recorded and listed. On SQLite and a
// real MariaDB, with the real log.
func TestResendAfterCrash(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	for _, db := range stores {
		for _, c := range []struct {
			name   string
			extra  string // policy
			status int    // of the answer to the resend
			kind   entry.Kind
			arm    func(*failing)
		}{
			{"admitted", "", http.StatusOK, entry.KindReleaseAdmitted, func(f *failing) { f.release.Store(true) }},
			{"rejected", refusing, http.StatusUnprocessableEntity, entry.KindReleaseRejected, func(f *failing) { f.rejection.Store(true) }},
		} {
			t.Run(db.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				d := newDurable(t, s.writePolicy(t, t.TempDir(), c.extra), db.mariaDB)
				f := &failing{}
				site, _ := d.start(t, func(st store.Store) store.Store { f.Store = st; return f }, nil)
				tok := site.token(t, "ci", token.Upload, token.Read)
				dir := t.TempDir()
				s.release(t, dir, []byte("app "+c.name), testBuilder, testSource)
				manifest := uploadAll(t, site.url, tok, dir)
				c.arm(f)
				code, first := admit(t, site.url, tok, manifest)
				switch {
				case c.kind == entry.KindReleaseAdmitted && code != http.StatusInternalServerError:
					t.Fatalf("admission whose row failed: %d %+v, want 500", code, first)
				case c.kind == entry.KindReleaseRejected && code != http.StatusUnprocessableEntity:
					t.Fatalf("refusal whose row failed: %d %+v, want 422 (the entry is the record)", code, first)
				}
				es := logEntries(t, site)
				if len(es) != 1 || es[0].Kind != c.kind {
					t.Fatalf("the log after the failed request: %+v, want one %s entry", es, c.kind)
				}
				code, again := admit(t, site.url, tok, manifest)
				if code != c.status || again.LogIndex != 0 {
					t.Fatalf("the same manifest again: %d %+v, want %d with the first entry's index 0", code, again, c.status)
				}
				if rc := checkReceipt(t, site.tl.VerifierKey(), again.Receipt); rc.Index != 0 {
					t.Errorf("the answer's receipt is of entry %d, want 0", rc.Index)
				}
				es = logEntries(t, site)
				if len(es) != 1 || entriesOf(es, c.kind, again.ReleaseID) != 1 {
					t.Fatalf("the log after the resend holds %d entries (%d %s of the release), want exactly one", len(es), entriesOf(es, c.kind, again.ReleaseID), c.kind)
				}
				if c.kind == entry.KindReleaseAdmitted {
					code, body, _ := do(t, "GET", site.url+"/api/v1/releases/"+again.ReleaseID, tok, nil)
					if code != http.StatusOK || !strings.Contains(string(body), `"logIndex":0`) {
						t.Errorf("GET the release: %d %s", code, body)
					}
					if code, third := admit(t, site.url, tok, manifest); code != http.StatusOK || third.LogIndex != 0 || third.Receipt != again.Receipt {
						t.Errorf("a third send: %d %+v, want the recorded answer", code, third)
					}
				} else {
					var list rejectionList
					code, body, _ := do(t, "GET", site.url+"/api/v1/rejections", tok, nil)
					if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Rejections) != 1 || list.Rejections[0].LogIndex != 0 {
						t.Errorf("GET /api/v1/rejections: %d %s, want the one rejection at index 0", code, body)
					}
				}
			})
		}
	}
}

// TestRepairAtStart: a server stopped after the log took an entry and
// before its row leaves a pending intent; a fresh server on the same
// database and log finishes it before it serves (the row recorded with the
// entry's index, nothing appended twice) and says so in its log, one line
// each. An intent whose entry never reached the log is appended then, the
// same bytes. Releases, rejections and dispatches; SQLite and MariaDB.
func TestRepairAtStart(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			d := newDurable(t, s.writePolicy(t, t.TempDir(), ""), db.mariaDB)
			f := &failing{}
			site, stop := d.start(t, func(st store.Store) store.Store { f.Store = st; return f }, nil)
			tok := site.token(t, "ci", token.Upload, token.Read, token.Dispatch)

			lost := lostAdmission(t, s, site, f, tok, "lost admission")
			// A release admitted, and a dispatch of it whose row is lost.
			dir := t.TempDir()
			s.release(t, dir, []byte("dispatched"), testBuilder, testSource)
			code, rel := admit(t, site.url, tok, uploadAll(t, site.url, tok, dir))
			if code != http.StatusCreated {
				t.Fatalf("admission: %d %+v", code, rel)
			}
			runID := "slipway:v1:run=9.1:job=run:release=" + rel.ReleaseID + ":spec=0123456789abcdef"
			auth := authorize(t, site, rel.ReleaseID, tok, map[string]any{"runId": runID, "fingerprint": fingerprintA})
			f.dispatch.Store(true)
			code, disp := postJSON(t, site.url+"/api/v1/releases/"+rel.ReleaseID+"/dispatches", tok, map[string]string{"jobId": "4711",
				"runId": runID, "authorizationId": auth.AuthorizationID, "fingerprint": fingerprintA})
			if code != http.StatusInternalServerError {
				t.Fatalf("dispatch whose row failed: %d %+v", code, disp)
			}
			before := logEntries(t, site)
			stop()

			// An intent written by a server stopped before its append: a
			// rejection the log never got.
			never := mustEntry(t, entry.Entry{Kind: entry.KindReleaseRejected, Decision: entry.DecisionRejected, Release: "r-00000000000000ff",
				Uploader: "token:ci/x", Check: "signature", Time: rel0Time,
				Artifacts: []entry.Subject{{Name: "app", SHA256: strings.Repeat("ab", 32)}}})
			rec, _ := json.Marshal(store.Rejection{Created: rel0Time, ReleaseID: "r-00000000000000ff", ManifestDigest: "sha256:" + strings.Repeat("cd", 32),
				Uploader: "token:ci/x", Check: "signature", Subject: "app", Detail: "FAIL signature app"})
			writeIntent(t, d, store.Intent{Key: "sha256:" + strings.Repeat("cd", 32), Kind: store.IntentRejection, Created: rel0Time,
				LogSize: uint64(len(before)), Entry: never, Record: rec})

			logs := &logbuf.Buffer{}
			site, _ = d.start(t, nil, logs)
			after := logEntries(t, site)
			if len(after) != len(before)+1 || after[len(before)].Kind != entry.KindReleaseRejected || after[len(before)].Release != "r-00000000000000ff" {
				t.Fatalf("the log after the repair: %d entries (was %d), want the one never appended, once", len(after), len(before))
			}
			for _, want := range []struct {
				kind, fields string
			}{
				{store.IntentRelease, `"entry":"found in the log"`},
				{store.IntentDispatch, `"entry":"found in the log"`},
				{store.IntentRejection, `"entry":"appended"`},
			} {
				if strings.Count(logs.String(), `"msg":"pending log intent finished at start","kind":"`+want.kind+`"`) != 1 || !strings.Contains(logs.String(), want.fields) {
					t.Errorf("the server's log does not say the %s intent was finished (%s):\n%s", want.kind, want.fields, logs)
				}
			}
			if strings.Contains(logs.String(), "without a record") {
				t.Errorf("orphans reported after a full repair:\n%s", logs)
			}
			code, again := admit(t, site.url, tok, lost)
			if code != http.StatusOK || entriesOf(before, entry.KindReleaseAdmitted, again.ReleaseID) != 1 || before[again.LogIndex].Release != again.ReleaseID {
				t.Errorf("the lost admission after the repair: %d %+v, want 200 with its first entry", code, again)
			}
			code, recorded := postJSON(t, site.url+"/api/v1/releases/"+rel.ReleaseID+"/dispatches", tok, map[string]string{"jobId": "4711",
				"runId": runID, "authorizationId": auth.AuthorizationID, "fingerprint": fingerprintA})
			if code != http.StatusOK || before[recorded.LogIndex].Kind != entry.KindDispatchRecorded {
				t.Errorf("the lost dispatch after the repair: %d %+v, want 200 with its first entry", code, recorded)
			}
			var list rejectionList
			code, body, _ := do(t, "GET", site.url+"/api/v1/rejections", tok, nil)
			if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Rejections) != 1 || list.Rejections[0].LogIndex != uint64(len(before)) {
				t.Errorf("GET /api/v1/rejections: %d %s, want the repaired rejection at index %d", code, body, len(before))
			}
			if n := len(logEntries(t, site)); n != len(after) {
				t.Errorf("the log grew from %d to %d entries on the resends", len(after), n)
			}
		})
	}
}

// TestOrphanReportedAtStart: an entry an older server logged and never
// recorded (no intent: it predates them) is named at start, with its
// index, kind, release and what to do: the last entry of the log, or one
// followed by recorded entries (a hole below the highest recorded index).
func TestOrphanReportedAtStart(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	for _, c := range []struct {
		name    string
		later   bool // another release admitted after the orphan
		summary string
	}{
		{"last", false, `"count":1,"below_highest_recorded":0,"after_highest_recorded":1,"log_size":1`},
		{"hole", true, `"count":1,"below_highest_recorded":1,"after_highest_recorded":0,"log_size":2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDurable(t, s.writePolicy(t, t.TempDir(), ""), false)
			f := &failing{}
			site, stop := d.start(t, func(st store.Store) store.Store { f.Store = st; return f }, nil)
			tok := site.token(t, "ci", token.Upload, token.Read)
			lostAdmission(t, s, site, f, tok, "orphan")
			release := logEntries(t, site)[0].Release
			stop()
			// What an older server leaves: the entry, no intent, no row.
			db, err := sqlite.Open(context.Background(), filepath.Join(d.data, "db.sqlite"))
			if err != nil {
				t.Fatal(err)
			}
			pending, err := db.PendingIntents(context.Background())
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending intents: %+v, %v", pending, err)
			}
			if err := db.DeleteIntent(context.Background(), pending[0].Key, pending[0].Kind); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if c.later {
				site, stop = d.start(t, nil, nil)
				dir := t.TempDir()
				s.release(t, dir, []byte("later"), testBuilder, testSource)
				if code, a := admit(t, site.url, tok, uploadAll(t, site.url, tok, dir)); code != http.StatusCreated || a.LogIndex != 1 {
					t.Fatalf("a later admission: %d %+v, want 201 at index 1", code, a)
				}
				stop()
			}

			logs := &logbuf.Buffer{}
			d.start(t, nil, logs)
			for _, want := range []string{
				`"msg":"log entries without a record: the log holds them, no API, page or export shows them",` + c.summary,
				`"msg":"log entry without a record","log_index":0,"kind":"release-admitted","release":"` + release + `"`,
				"send the same manifest again (slipway upload) to record the release",
			} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the server's log at start lacks %s:\n%s", want, logs)
				}
			}
			if strings.Count(logs.String(), `"msg":"log entry without a record"`) != 1 {
				t.Errorf("more than the one orphan named:\n%s", logs)
			}
		})
	}
}

var rel0Time = time.Date(2026, 12, 5, 12, 0, 0, 123e6, time.UTC)

// writeIntent records in in d's database, as a server stopped before its
// append leaves it.
func writeIntent(t *testing.T, d *durable, in store.Intent) {
	t.Helper()
	ctx := context.Background()
	var db store.Store
	var err error
	if d.dsn != "" {
		db, err = mysql.Open(ctx, d.dsn)
	} else {
		db, err = sqlite.Open(ctx, filepath.Join(d.data, "db.sqlite"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateIntent(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func mustEntry(t *testing.T, e entry.Entry) []byte {
	t.Helper()
	raw, err := entry.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestIntentOfAnotherReplica: an intent pending for the same manifest that
// this server did not write (another replica's, in flight or dead) makes
// the admission 503 with nothing appended while it is young; once older
// than a minute this server finishes it (its entry appended, its row
// recorded) before answering 503, and the same manifest sent again is
// decided on its own.
func TestIntentOfAnotherReplica(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	for _, c := range []struct {
		name     string
		created  time.Time
		finished bool
	}{
		{"young", time.Now().UTC(), false},
		{"stale", time.Now().UTC().Add(-2 * time.Minute), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDurable(t, s.writePolicy(t, t.TempDir(), ""), false)
			site, _ := d.start(t, nil, nil)
			tok := site.token(t, "ci", token.Upload, token.Read)
			dir := t.TempDir()
			s.release(t, dir, []byte("contested"), testBuilder, testSource)
			manifest := uploadAll(t, site.url, tok, dir)
			m, err := artifact.Decode(bytes.NewReader(manifest), "manifest")
			if err != nil {
				t.Fatal(err)
			}
			a, err := artifact.AdmittedAs(m)
			if err != nil {
				t.Fatal(err)
			}
			raw := mustEntry(t, entry.Entry{Kind: entry.KindReleaseRejected, Decision: entry.DecisionRejected, Release: a.ID,
				Uploader: "token:other/x", Check: "signature", Time: c.created,
				Artifacts: []entry.Subject{{Name: "app.bin", SHA256: strings.Repeat("ab", 32)}}})
			rec, _ := json.Marshal(store.Rejection{Created: c.created, ReleaseID: a.ID, ManifestDigest: a.Digest.String(),
				Uploader: "token:other/x", Check: "signature", Subject: "app.bin", Detail: "FAIL signature app.bin"})
			writeIntent(t, d, store.Intent{Key: a.Digest.String(), Kind: store.IntentRejection, Created: c.created, Owner: "replica-b", Entry: raw, Record: rec})

			code, body, _ := do(t, "POST", site.url+"/api/v1/releases", tok, manifest)
			if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "another request is recording the same decision") {
				t.Fatalf("admission while another's intent is pending: %d %s, want 503", code, body)
			}
			es := logEntries(t, site)
			if got := entriesOf(es, entry.KindReleaseRejected, a.ID); got != map[bool]int{true: 1, false: 0}[c.finished] || len(es) != got {
				t.Fatalf("the log holds %d entries, %d rejections of the release; finished: %v", len(es), got, c.finished)
			}
			var list rejectionList
			code, body, _ = do(t, "GET", site.url+"/api/v1/rejections", tok, nil)
			if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || (len(list.Rejections) == 1) != c.finished {
				t.Errorf("GET /api/v1/rejections: %d %s; finished: %v", code, body, c.finished)
			}
			if c.finished {
				if code, again := admit(t, site.url, tok, manifest); code != http.StatusCreated || again.LogIndex != 1 {
					t.Errorf("the same manifest again: %d %+v, want 201 at index 1", code, again)
				}
			}
		})
	}
}
