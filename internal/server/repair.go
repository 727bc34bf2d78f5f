package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/tlog/entry"
)

// maxOrphansListed bounds the lines Repair writes about orphaned entries
// (one summary line says how many more).
const maxOrphansListed = 20

// Repair runs before the server answers requests (Serve calls it): it
// finishes every pending intent (intents.go) but the young ones of other
// replicas on a shared log (in a bucket), writing one line each to the
// server log (kind, key, log index, whether the entry was found in the log
// or appended now), and then reports, loudly, log entries no row records
// (reportOrphans): appended by an older slipway (before intents) that
// stopped before recording them, or a log and a database restored from
// different backups. Its error joins
// the intents it could not finish; they stay pending for the next start
// or the same request sent again.
func (s *Server) Repair(ctx context.Context) error {
	if s.cfg.TLog == nil {
		return nil
	}
	pending, err := s.cfg.Store.PendingIntents(ctx)
	if err != nil {
		return fmt.Errorf("repairing the log's records: %w", err)
	}
	if len(pending) > 0 {
		// An entry a stopped server sequenced is in a checkpoint within a
		// checkpoint interval of the log's start.
		if err := s.cfg.TLog.Settle(ctx); err != nil {
			return err
		}
	}
	var errs []error
	shared := s.cfg.TLog.Dir() == "" // a log in a bucket: other replicas append to it now
	for _, in := range pending {
		if shared && in.Owner != s.owner && s.now().Sub(in.Created) < staleIntent {
			s.log.Info("pending log intent of another replica left to it", "kind", in.Kind, "key", in.Key, "owner", in.Owner, "since", in.Created,
				"fix", "the replica finishes it; if it has stopped, the same request sent again after a minute (or the next start) finishes it")
			continue
		}
		f, err := s.finish(ctx, in)
		if err != nil {
			s.log.Error("pending log intent not finished; it stays pending for the next start or the same request sent again", "kind", in.Kind, "key", in.Key,
				"since", in.Created, "err", err.Error())
			errs = append(errs, err)
			s.unfinished.Store(in.Key, struct{}{}) // the same request again finishes it
			continue
		}
		s.log.Warn("pending log intent finished at start", "kind", in.Kind, "key", in.Key, "since", in.Created, "log_index", f.index, "entry", foundWord(f.found))
	}
	if err := s.reportOrphans(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reportOrphans names the log entries no row records: those after the
// highest index the tables know (four index lookups), and, when the tables
// hold fewer rows than that index plus one (four counts), the holes below
// it (one read of every recorded index, only then).
func (s *Server) reportOrphans(ctx context.Context) error {
	size, err := s.cfg.TLog.Published(ctx)
	if err != nil {
		return err
	}
	high, ok, err := s.cfg.Store.HighestLogIndex(ctx)
	if err != nil {
		return err
	}
	var next uint64
	if ok {
		next = high + 1
	}
	if size < next {
		s.log.Error("the database records log index beyond the log's end: this log is not the one the database was recorded with", "log_size", size, "highest_recorded_index", high,
			"fix", "restore the data directory's log, its key and the database from the same backup; receipts of the missing entries do not verify against this log")
		return nil
	}
	var holes []uint64 // below next, at most maxOrphansListed of them
	var holeCount uint64
	if ok {
		rows, err := s.cfg.Store.CountLogIndexes(ctx)
		if err != nil {
			return err
		}
		if rows < next {
			recorded := make([]uint64, (next+63)/64) // a bit per index below next
			if err := s.cfg.Store.VisitLogIndexes(ctx, func(i uint64) {
				if i < next {
					recorded[i/64] |= 1 << (i % 64)
				}
			}); err != nil {
				return err
			}
			for i := range next {
				if recorded[i/64]&(1<<(i%64)) == 0 {
					if holeCount++; len(holes) < maxOrphansListed {
						holes = append(holes, i)
					}
				}
			}
		}
	}
	total := holeCount + size - next
	if total == 0 {
		return nil
	}
	s.log.Error("log entries without a record: the log holds them, no API, page or export shows them", "count", total, "below_highest_recorded", holeCount,
		"after_highest_recorded", size-next, "log_size", size,
		"fix", "an older slipway logged them and stopped before recording them (or the database is older than the log); the log is append-only, so they stay: each line below says what to do")
	listed := 0
	list := func(i uint64) error {
		listed++
		rc, err := s.cfg.TLog.Entry(ctx, i)
		if err != nil {
			return err
		}
		e, err := entry.Parse(rc.Entry)
		if err != nil {
			s.log.Error("log entry without a record", "log_index", i, "err", err.Error(), "fix", "the entry is not one slipway writes: keep it in the audit notes")
			return nil
		}
		s.log.Error("log entry without a record", "log_index", i, "kind", string(e.Kind), "release", e.Release, "time", e.Time, "uploader", e.Uploader, "fix", orphanFix(e))
		return nil
	}
	for _, i := range holes {
		if err := list(i); err != nil {
			return err
		}
	}
	for i := next; i < size && listed < maxOrphansListed; i++ {
		if err := list(i); err != nil {
			return err
		}
	}
	if total > uint64(listed) {
		s.log.Error("more log entries without a record", "count", total-uint64(listed),
			"fix", "read them with GET /api/v1/log/entries/{index}")
	}
	return nil
}

// orphanFix says what to do about an orphaned entry of e's kind.
func orphanFix(e *entry.Entry) string {
	switch e.Kind {
	case entry.KindReleaseAdmitted, entry.KindOutputsAdmitted:
		return "an admission whose manifest was not kept: send the same manifest again (slipway upload) to record the release; its new entry is the one the API shows, and this index is an earlier admission of the same release: note it in the audit record"
	case entry.KindReleaseRejected:
		return "a refusal the rejections list does not show: the entry is its record (GET /api/v1/log/entries/{index}); nothing to send again"
	case entry.KindDispatchAuthorized, entry.KindDispatchRecorded:
		return "a dispatch step no API shows: run the same dispatch again (same run) to record it; this index is an earlier entry of it: note it in the audit record"
	}
	return "an entry of a kind this slipway does not record: run the slipway that wrote it"
}
