package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/blobstore"
	s3blobs "github.com/slipway/actions/internal/blobstore/s3"
	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/input"
)

// blobFlags choose where slipway serve keeps blobs: the data directory
// (default), or an S3 bucket, with its Object Lock settings.
type blobFlags struct {
	blobs, retentionMode, retention string
	requireObjectLock               bool
}

func (f *blobFlags) inputs() []input.Input {
	return []input.Input{
		input.String(&f.blobs, input.Spec{Name: "blobs", Env: "SLIPWAY_BLOBS",
			Description: "Where blobs are kept: empty for DATA/blobs (files, read-only once stored), or an S3 bucket as s3://BUCKET?endpoint=URL&region=R&path-style=true; its credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the AWS shared config, never from a flag."}),
		input.Bool(&f.requireObjectLock, input.Spec{Name: "require-object-lock", Env: "SLIPWAY_REQUIRE_OBJECT_LOCK", Default: "false",
			Description: "Refuse to start unless the blobs bucket has Object Lock enabled and a retention applies to new blobs (the bucket's default, or retention-mode and retention)."}),
		input.String(&f.retentionMode, input.Spec{Name: "retention-mode", Env: "SLIPWAY_RETENTION_MODE",
			Description: "Object Lock mode given to each blob stored in the bucket: governance or compliance; needs retention. Unset: the bucket's default retention applies."}),
		input.String(&f.retention, input.Spec{Name: "retention", Env: "SLIPWAY_RETENTION",
			Description: "How long each blob stored in the bucket is locked from the time it is stored, in years or days (7y, 90d); needs retention-mode."}),
	}
}

// check validates the flags that need no service.
func (f *blobFlags) check() (loc s3blobs.Location, ret s3blobs.Retention, err error) {
	if (f.retentionMode == "") != (f.retention == "") {
		return loc, ret, fmt.Errorf("inputs \"retention-mode\" and \"retention\" go together; give both (like governance and 7y), or neither to rely on the bucket's default retention")
	}
	if f.blobs == "" {
		if f.requireObjectLock || f.retentionMode != "" {
			return loc, ret, fmt.Errorf("inputs \"require-object-lock\", \"retention-mode\" and \"retention\" apply to an S3 blob store: give --blobs s3://BUCKET?…, or drop them (blobs in DATA/blobs are made read-only)")
		}
		return loc, ret, nil
	}
	if !strings.HasPrefix(f.blobs, "s3://") {
		return loc, ret, fmt.Errorf("input \"blobs\": %q is not an s3:// URL; give s3://BUCKET?endpoint=URL&region=R&path-style=true, or leave it empty for DATA/blobs", redactURL(f.blobs))
	}
	if loc, err = s3blobs.ParseURL(f.blobs); err != nil {
		return loc, ret, fmt.Errorf("input \"blobs\": %w", err)
	}
	if f.retentionMode != "" {
		if ret.Mode, err = s3blobs.ParseMode(f.retentionMode); err != nil {
			return loc, ret, fmt.Errorf("input \"retention-mode\": %w", err)
		}
		if ret.Period, err = s3blobs.ParsePeriod(f.retention); err != nil {
			return loc, ret, fmt.Errorf("input \"retention\": %w", err)
		}
	}
	return loc, ret, nil
}

// redactURL drops what could be a secret from a URL given by mistake.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		return "…" + s[i:]
	}
	return s
}

// open opens the S3 blob store the flags name and checks its Object Lock;
// nil (the data directory's own store) without --blobs.
func (f *blobFlags) open(ctx context.Context, rt *Runtime, dir datadir.Dir, log *slog.Logger) (blobstore.Store, error) {
	loc, ret, err := f.check()
	if err != nil || f.blobs == "" {
		return nil, err
	}
	cfg, err := s3blobs.LoadConfig(ctx, loc, rt.Getenv)
	if err != nil {
		return nil, err
	}
	store, err := s3blobs.New(ctx, awss3.NewFromConfig(cfg, loc.ClientOptions), loc.Bucket,
		s3blobs.Options{TempDir: dir.Incoming(), Retention: ret})
	if err != nil {
		return nil, err
	}
	lock, err := store.CheckWORM(ctx, f.requireObjectLock)
	if err != nil {
		return nil, err
	}
	attrs := []any{"url", loc.String(), "object_lock", lock.String()}
	if ret.Mode != "" {
		attrs = append(attrs, "retention", strings.ToLower(string(ret.Mode))+" "+ret.Period.String()+" per blob")
	}
	log.Info("blobs in an S3 bucket", attrs...)
	if !lock.Enabled || (ret.Mode == "" && lock.Default.Mode == "") {
		log.Warn("blobs in the bucket are not locked: only this server's conditional writes keep them from being overwritten; enable Object Lock with a retention (docs/server.md)", "bucket", loc.Bucket)
	}
	return store, nil
}
