package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	s3blobs "github.com/slipway/actions/internal/blobstore/s3"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/tlog"
)

// logFlags choose where slipway serve keeps the transparency log: the data
// directory (DATA/log, tessera's POSIX driver; the default), or, for
// replicas behind a load balancer, an S3 bucket sequenced through the
// metadata database (tessera's AWS driver), shared by all of them.
type logFlags struct{ logBucket string }

func (f *logFlags) inputs() []input.Input {
	return []input.Input{
		input.String(&f.logBucket, input.Spec{Name: "log-bucket", Env: "SLIPWAY_LOG_BUCKET",
			Description: "Keep the transparency log in this S3 bucket (s3://BUCKET?endpoint=URL&region=R&path-style=true: its own bucket, not the blobs', without Object Lock), its entries sequenced through the database of --database, so that replicas share one log; needs --database mysql://…, --blobs s3://… and --log-key (from slipway log-key). Empty: DATA/log. Credentials as for --blobs."}),
	}
}

// check validates the choice against the database and blob store chosen:
// a log in a bucket is only for replicas (a MySQL database and an S3 blob
// store), which share a key given to them.
func (f *logFlags) check(sharedDatabase bool, blobs, logKey string) (s3blobs.Location, error) {
	shared := sharedDatabase && strings.HasPrefix(blobs, "s3://")
	switch {
	case f.logBucket == "":
		return s3blobs.Location{}, nil
	case !shared:
		return s3blobs.Location{}, fmt.Errorf("input \"log-bucket\" keeps the log for replicas, which also share the metadata and the blobs: give --database mysql://… and --blobs s3://… too, or drop --log-bucket for DATA/log")
	case logKey == "":
		return s3blobs.Location{}, fmt.Errorf("input \"log-bucket\" needs --log-key: every replica signs with one key, which none may create for itself; create it once with \"slipway log-key --log-key FILE --log-origin ORIGIN\" and give that file to every replica")
	}
	loc, err := s3blobs.ParseURL(f.logBucket)
	if err != nil {
		return loc, fmt.Errorf("input \"log-bucket\": %w", err)
	}
	if blob, err := s3blobs.ParseURL(blobs); err == nil && blob.Bucket == loc.Bucket && blob.Endpoint == loc.Endpoint {
		return loc, fmt.Errorf("input \"log-bucket\" names the blobs' bucket %q: the log rewrites and deletes partial tiles, which a blob bucket's Object Lock forbids; give the log its own bucket", loc.Bucket)
	}
	return loc, nil
}

// aws returns where the log in a bucket is, its sequencing tables in the
// metadata database db; nil without --log-bucket, with a warning when the
// metadata and blobs are shared (replicas) but the log would not be.
func (f *logFlags) aws(ctx context.Context, rt *Runtime, log *slog.Logger, db database, blobs, logKey string) (*tlog.AWS, error) {
	loc, err := f.check(!db.embedded(), blobs, logKey)
	if err != nil {
		return nil, err
	}
	if f.logBucket == "" {
		if !db.embedded() && strings.HasPrefix(blobs, "s3://") {
			log.Warn("the metadata and blobs are shared, but the log stays in DATA/log: fine for one server; replicas would each keep their own log: give them --log-bucket and --log-key (docs/server.md, Scale-out)")
		}
		return nil, nil
	}
	cfg, err := s3blobs.LoadConfig(ctx, loc, rt.Getenv)
	if err != nil {
		return nil, fmt.Errorf("input \"log-bucket\": %w", err)
	}
	return &tlog.AWS{Bucket: loc.Bucket, SDK: cfg, S3Options: loc.ClientOptions, DSN: db.mysql.FormatDSN()}, nil
}
