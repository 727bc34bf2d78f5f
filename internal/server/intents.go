package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// Every log entry the server appends is written to the store first, as an
// intent (store.Intents): the exact entry bytes, the row to record once the
// log has taken them, and the log's size before the append. The row's
// insert removes the intent in the same transaction. So a request that
// fails after its append (a crash, a database that did not answer) leaves
// a pending intent, never an entry no row knows, and finishing it later
// appends nothing twice: the entry is looked for in the log from that size
// (tlog.Log.Find) and reused when found, else the same bytes are appended
// (tessera's in-memory dedup answers an append still in flight with its
// index). The same request sent again finishes its pending intent (admit,
// record, grant); a starting server finishes every one (Repair).

// staleIntent is how old a pending intent another request holds must be
// before a request for the same key finishes it itself: longer than any
// append waits for its checkpoint, so that the request holding it (on
// another replica) has failed.
const staleIntent = time.Minute

// errIntentBusy answers a request whose intent another request (on another
// replica) holds and may be appending right now.
var errIntentBusy = &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Being recorded", RetryAfter: 1,
	Detail: "another request is recording the same decision in the log right now; send the same request again"}

// appendIntent records the intent of kind for key (the entry raw and the
// row record, as JSON) and then appends raw to the log. The caller calls
// s.recorded(key) once the row is recorded; until then a failure leaves
// key among s.unfinished.
func (s *Server) appendIntent(ctx context.Context, kind, key string, raw []byte, record any) (*receipt.Receipt, error) {
	js, err := json.Marshal(record)
	if err != nil {
		return nil, fmt.Errorf("encoding the %s intent %q: %w", kind, key, err)
	}
	in := store.Intent{Key: key, Kind: kind, Created: s.now(), Owner: s.owner, LogSize: s.cfg.TLog.Size(), Entry: raw, Record: js}
	if err := s.cfg.Store.CreateIntent(ctx, in); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, s.busy(ctx, key)
		}
		return nil, err
	}
	s.unfinished.Store(key, struct{}{})
	rc, err := s.cfg.TLog.Append(ctx, raw)
	if err != nil {
		return nil, logUnavailable(kind, err)
	}
	return rc, nil
}

// recorded says that key's row is recorded (its intent removed with it).
func (s *Server) recorded(key string) { s.unfinished.Delete(key) }

// busy answers a request whose intent is pending for another request (on
// another replica: this one's claim on key keeps its own out): 503 while
// that request may still be appending; an intent of this server's or older
// than staleIntent is finished here first, and the answer to the same
// request sent again is the recorded one.
func (s *Server) busy(ctx context.Context, key string) error {
	in, err := s.cfg.Store.Intent(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound): // recorded meanwhile
		return errIntentBusy
	case err != nil:
		return err
	case in.Owner != s.owner && s.now().Sub(in.Created) < staleIntent:
		return errIntentBusy
	}
	f, err := s.finish(ctx, in)
	if err != nil {
		return err
	}
	s.log.Warn("stale log intent finished", "request_id", requestID(ctx), "kind", in.Kind, "key", in.Key, "since", in.Created, "log_index", f.index, "entry", foundWord(f.found))
	return errIntentBusy
}

// logUnavailable answers a log that did not take an entry (the intent
// stays pending: the same request again finishes it).
func logUnavailable(kind string, err error) error {
	return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Log unavailable", RetryAfter: 1,
		Detail: "the transparency log did not take the " + kind + " entry; send the same request again (it is idempotent)", Cause: err}
}

// finished is a pending intent finished: its row as recorded (one of
// release, rejection, dispatch, authorization, by the intent's kind) and
// whether its entry was found in the log (else it was appended now).
type finished struct {
	kind          string
	receipt       []byte // the entry's receipt (tlog-proof text)
	release       store.Release
	rejection     store.Rejection
	dispatch      store.Dispatch
	authorization store.DispatchAuthorization
	index         uint64
	found         bool
}

// pendingIntent returns the intent pending for key, finished (its entry
// logged once, its row recorded); nil when none is pending. The caller
// holds key's in-flight claim.
func (s *Server) pendingIntent(ctx context.Context, key string) (*finished, error) {
	if _, ok := s.unfinished.Load(key); !ok {
		return nil, nil // Repair finished every intent older than this server
	}
	in, err := s.cfg.Store.Intent(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		s.recorded(key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := s.finish(ctx, in)
	if err != nil {
		return nil, err
	}
	s.log.Info("pending log intent finished", "request_id", requestID(ctx), "kind", in.Kind, "key", in.Key, "log_index", f.index, "entry", foundWord(f.found))
	return f, nil
}

func foundWord(found bool) string {
	if found {
		return "found in the log"
	}
	return "appended"
}

// finish logs in's entry once and records its row: the entry is looked
// for in the log from in.LogSize, and appended (the same bytes) only when
// the log does not hold it.
func (s *Server) finish(ctx context.Context, in store.Intent) (_ *finished, err error) {
	f := &finished{found: true}
	rc, err := s.cfg.TLog.Find(ctx, in.LogSize, in.Entry)
	if errors.Is(err, tlog.ErrNotLogged) {
		f.found = false
		if rc, err = s.cfg.TLog.Append(ctx, in.Entry); err != nil {
			return nil, logUnavailable(in.Kind, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("finishing the %s intent %q: %w", in.Kind, in.Key, err)
	}
	f.kind, f.index, f.receipt = in.Kind, rc.Index, rc.Marshal()
	defer func() {
		if err == nil {
			s.recorded(in.Key)
		}
	}()
	ctx = context.WithoutCancel(ctx) // the entry is logged: its row is recorded whatever becomes of the request
	var create error
	switch in.Kind {
	case store.IntentRelease:
		if err := decodeRecord(in, &f.release); err != nil {
			return nil, err
		}
		f.release.LogIndex, f.release.LogEntry, f.release.Receipt = rc.Index, in.Entry, rc.Marshal()
		if create = s.cfg.Store.CreateRelease(ctx, f.release); errors.Is(create, store.ErrExists) {
			f.release, err = s.cfg.Store.ReleaseByManifest(ctx, in.Key)
		}
	case store.IntentRejection:
		if err := decodeRecord(in, &f.rejection); err != nil {
			return nil, err
		}
		f.rejection.LogIndex = rc.Index
		create = s.cfg.Store.CreateRejection(ctx, f.rejection)
	case store.IntentDispatch:
		if err := decodeRecord(in, &f.dispatch); err != nil {
			return nil, err
		}
		f.dispatch.LogIndex, f.dispatch.LogEntry, f.dispatch.Receipt = rc.Index, in.Entry, rc.Marshal()
		if create = s.cfg.Store.CreateDispatch(ctx, f.dispatch); errors.Is(create, store.ErrExists) {
			f.dispatch, err = s.cfg.Store.Dispatch(ctx, in.Key)
		}
	case store.IntentAuthorization:
		if err := decodeRecord(in, &f.authorization); err != nil {
			return nil, err
		}
		f.authorization.LogIndex, f.authorization.LogEntry, f.authorization.Receipt = rc.Index, in.Entry, rc.Marshal()
		if create = s.cfg.Store.CreateDispatchAuthorization(ctx, f.authorization); errors.Is(create, store.ErrExists) {
			f.authorization, err = s.cfg.Store.DispatchAuthorization(ctx, in.Key)
		}
	default:
		return nil, fmt.Errorf("the pending intent %q is of kind %q, which this slipway does not know: run the slipway that wrote it (or a newer one)", in.Key, in.Kind)
	}
	switch {
	case errors.Is(create, store.ErrExists):
		// Its row was recorded meanwhile (another replica): the intent
		// is done.
		if err != nil {
			return nil, err
		}
		if err := s.cfg.Store.DeleteIntent(ctx, in.Key, in.Kind); err != nil {
			return nil, err
		}
	case create != nil:
		return nil, fmt.Errorf("recording the %s of intent %q (log index %d): %w", in.Kind, in.Key, rc.Index, create)
	}
	return f, nil
}

// decodeRecord reads in's row.
func decodeRecord(in store.Intent, v any) error {
	if err := json.Unmarshal(in.Record, v); err != nil {
		return fmt.Errorf("reading the row of the %s intent %q: %w; the database is damaged: restore it from a backup", in.Kind, in.Key, err)
	}
	return nil
}

// replicaName is cfg.Replica, or the host name and the staging directory.
func replicaName(cfg Config) string {
	if cfg.Replica != "" {
		return cfg.Replica
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	if dir, err := filepath.Abs(cfg.Staging); err == nil && cfg.Staging != "" {
		return host + ":" + dir
	}
	return host
}
