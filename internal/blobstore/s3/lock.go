package s3

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Retention is the Object Lock retention given to each stored blob.
type Retention struct {
	// Mode is governance (users with s3:BypassGovernanceRetention can
	// still delete) or compliance (nobody can, root included, until the
	// date); empty for none.
	Mode   types.ObjectLockMode
	Period Period
}

// Period is a retention period in whole years and days, as S3's default
// retention counts it.
type Period struct {
	Years, Days int
}

// After is the end of the period that starts at t.
func (p Period) After(t time.Time) time.Time { return t.AddDate(p.Years, 0, p.Days) }

func (p Period) String() string {
	if p.Years > 0 {
		return strconv.Itoa(p.Years) + "y"
	}
	return strconv.Itoa(p.Days) + "d"
}

// ParsePeriod reads a period like 7y or 90d (at most 100 years, S3's
// limit).
func ParsePeriod(s string) (Period, error) {
	bad := fmt.Errorf("retention period %q is not a whole number of years or days; give it like 7y or 90d", s)
	if len(s) < 2 {
		return Period{}, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return Period{}, bad
	}
	switch s[len(s)-1] {
	case 'y':
		if n > 100 {
			return Period{}, fmt.Errorf("retention period %q is longer than S3's limit of 100 years", s)
		}
		return Period{Years: n}, nil
	case 'd':
		if n > 36500 {
			return Period{}, fmt.Errorf("retention period %q is longer than S3's limit of 36500 days", s)
		}
		return Period{Days: n}, nil
	}
	return Period{}, bad
}

// ParseMode reads governance or compliance (any case).
func ParseMode(s string) (types.ObjectLockMode, error) {
	switch strings.ToLower(s) {
	case "governance":
		return types.ObjectLockModeGovernance, nil
	case "compliance":
		return types.ObjectLockModeCompliance, nil
	}
	return "", fmt.Errorf("retention mode %q is neither governance nor compliance; give one of them", s)
}

// Lock is a bucket's Object Lock configuration.
type Lock struct {
	Enabled bool
	// Default is the bucket's default retention (zero Mode: none): S3
	// gives it to every new object that names no retention of its own.
	Default Retention
}

func (l Lock) String() string {
	switch {
	case !l.Enabled:
		return "no Object Lock"
	case l.Default.Mode == "":
		return "Object Lock enabled, no default retention"
	}
	return fmt.Sprintf("Object Lock enabled, default retention %s for %s", strings.ToLower(string(l.Default.Mode)), l.Default.Period)
}

// ObjectLock reads the bucket's Object Lock configuration; a bucket
// without one is Lock{} (not an error).
func (s *Store) ObjectLock(ctx context.Context) (Lock, error) {
	out, err := s.c.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: aws.String(s.bucket)})
	if st := status(err); st == http.StatusNotFound || st == http.StatusBadRequest {
		// ObjectLockConfigurationNotFoundError (404); some services answer
		// 400 InvalidRequest for a bucket created without it.
		return Lock{}, nil
	}
	if err != nil {
		return Lock{}, fmt.Errorf("reading the Object Lock configuration of bucket %q: %w", s.bucket, err)
	}
	cfg := out.ObjectLockConfiguration
	if cfg == nil || cfg.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return Lock{}, nil
	}
	l := Lock{Enabled: true}
	if cfg.Rule != nil && cfg.Rule.DefaultRetention != nil {
		dr := cfg.Rule.DefaultRetention
		l.Default = Retention{Mode: types.ObjectLockMode(dr.Mode),
			Period: Period{Years: int(aws.ToInt32(dr.Years)), Days: int(aws.ToInt32(dr.Days))}}
	}
	return l, nil
}

// CheckWORM makes sure the bucket keeps what is stored in it (for
// --require-object-lock): Object Lock enabled, and a retention, the
// store's own (Options.Retention) or the bucket's default. Without
// require it only checks that a retention the store was given can be
// applied (Object Lock enabled). It returns the bucket's configuration.
func (s *Store) CheckWORM(ctx context.Context, require bool) (Lock, error) {
	l, err := s.ObjectLock(ctx)
	if err != nil {
		return l, err
	}
	enable := fmt.Sprintf("create the bucket with Object Lock enabled (aws s3api create-bucket --bucket %s --object-lock-enabled-for-bucket; an existing bucket with versioning: aws s3api put-object-lock-configuration --bucket %s --object-lock-configuration '{\"ObjectLockEnabled\":\"Enabled\"}'; docs/server.md)", s.bucket, s.bucket)
	switch {
	case !l.Enabled && s.opts.Retention.Mode != "":
		return l, fmt.Errorf("bucket %q has no Object Lock, so a retention cannot be given to blobs: %s, or drop --retention-mode", s.bucket, enable)
	case !l.Enabled && require:
		return l, fmt.Errorf("bucket %q has no Object Lock and --require-object-lock is set: %s, or drop --require-object-lock", s.bucket, enable)
	case require && s.opts.Retention.Mode == "" && l.Default.Mode == "":
		return l, fmt.Errorf("bucket %q has Object Lock enabled but no default retention, so blobs would not be locked and --require-object-lock is set: give --retention-mode and --retention (like governance and 7y), or set a default retention on the bucket (aws s3api put-object-lock-configuration --bucket %s --object-lock-configuration '{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\"COMPLIANCE\",\"Years\":7}}}')", s.bucket, s.bucket)
	}
	return l, nil
}
