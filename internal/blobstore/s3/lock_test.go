package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slipway/actions/internal/digest"
	s3test "github.com/slipway/actions/internal/testutil/s3"
)

// What versitygw enforces on a blob stored with a retention: no
// overwrite, no delete; compliance even with the governance bypass;
// governance gives way to the bypass header of the service's root (as on
// AWS), unless a legal hold is on. Retention dates are a few seconds away
// (the store's clock is set back) so that the cleanup can remove the
// compliance-locked object once they pass.
func TestObjectLockKeepsBlobs(t *testing.T) {
	t.Parallel()
	for _, mode := range []types.ObjectLockMode{types.ObjectLockModeGovernance, types.ObjectLockModeCompliance} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			until := time.Now().Add(4 * time.Second).Truncate(time.Second)
			s, b := newStore(t, Options{
				Retention: Retention{Mode: mode, Period: Period{Days: 1}},
				Now:       func() time.Time { return until.AddDate(0, 0, -1) },
			}, s3test.WithObjectLock())
			if _, err := s.CheckWORM(ctx, true); err != nil {
				t.Fatalf("CheckWORM with a retention of the store's own: %v", err)
			}
			content := []byte("kept for a while: " + string(mode))
			d := digest.SHA256(sha256.Sum256(content))
			if _, err := s.Put(ctx, bytes.NewReader(content), d, 0); err != nil {
				t.Fatal(err)
			}
			k := aws.String(KeyPrefix + d.Hex())
			ret, err := b.Client.GetObjectRetention(ctx, &awss3.GetObjectRetentionInput{Bucket: aws.String(b.Name), Key: k})
			if err != nil || string(ret.Retention.Mode) != string(mode) || !aws.ToTime(ret.Retention.RetainUntilDate).Equal(until) {
				t.Fatalf("GetObjectRetention = %+v, %v; want %s until %s", ret, err, mode, until)
			}
			// Overwriting through the S3 API, as a client other than the store would.
			_, err = b.Client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(b.Name), Key: k, Body: strings.NewReader("tampered")})
			if status(err) != http.StatusForbidden {
				t.Errorf("PutObject over a %s-locked blob: %v, want 403", mode, err)
			}
			_, err = b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: k})
			if status(err) != http.StatusForbidden {
				t.Errorf("DeleteObject of a %s-locked blob: %v, want 403", mode, err)
			}
			if mode == types.ObjectLockModeGovernance {
				_, err = b.Client.PutObjectLegalHold(ctx, &awss3.PutObjectLegalHoldInput{Bucket: aws.String(b.Name), Key: k,
					LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}})
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err = b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: k, BypassGovernanceRetention: aws.Bool(true)})
			if status(err) != http.StatusForbidden {
				t.Errorf("DeleteObject with the governance bypass of a %s-locked blob (legal hold on for governance): %v, want 403", mode, err)
			}
			t.Logf("refused: %v", err)
			r, err := s.Open(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := digest.Copy(new(bytes.Buffer), r)
			r.Close()
			if err != nil || got != d {
				t.Errorf("the blob after the attempts: digest %s, %v; want it unchanged", got, err)
			}
			if mode == types.ObjectLockModeGovernance {
				// Without the legal hold, the root's bypass deletes it: governance
				// protects against mistakes, not against the service's root.
				b.Client.PutObjectLegalHold(ctx, &awss3.PutObjectLegalHoldInput{Bucket: aws.String(b.Name), Key: k,
					LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}})
				_, err = b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: k, BypassGovernanceRetention: aws.Bool(true)})
				if err != nil {
					t.Errorf("the root's governance bypass did not delete the blob: %v", err)
				}
				return
			}
			time.Sleep(time.Until(until.Add(time.Second))) // the cleanup can delete it once the date passed
		})
	}
}

// A bucket's default retention holds blobs stored without a retention of
// the store's own. versitygw v1.8.0 differs from AWS here: it gives the
// object no retain-until date of its own (HeadObject shows no lock) and
// counts the default period from when the bucket's configuration was set,
// not from each object's creation; while that period runs, overwrite and
// delete are refused, which is what this checks.
func TestBucketDefaultRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newStore(t, Options{}, s3test.WithDefaultRetention(types.ObjectLockRetentionModeGovernance, 1))
	l, err := s.CheckWORM(ctx, true)
	if err != nil || l.Default.Mode != types.ObjectLockModeGovernance || l.Default.Period != (Period{Days: 1}) {
		t.Fatalf("CheckWORM = %v, %v", l, err)
	}
	blob, err := s.Put(ctx, strings.NewReader("defaulted"), digest.SHA256{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	k := aws.String(KeyPrefix + blob.Digest.Hex())
	if _, err := b.Client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(b.Name), Key: k, Body: strings.NewReader("tampered")}); status(err) != http.StatusForbidden {
		t.Errorf("PutObject over a blob under the bucket's default retention: %v, want 403", err)
	}
	if _, err := b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: k}); status(err) != http.StatusForbidden {
		t.Errorf("DeleteObject of a blob under the bucket's default retention: %v, want 403", err)
	}
	if st, err := s.Stat(ctx, blob.Digest); err != nil || st.Size != int64(len("defaulted")) {
		t.Errorf("the blob after the attempts: %+v, %v", st, err)
	}
}

func TestCheckWORM(t *testing.T) {
	t.Parallel()
	gov := Retention{Mode: types.ObjectLockModeGovernance, Period: Period{Years: 7}}
	tests := []struct {
		name      string
		bucket    []s3test.Option
		retention Retention
		require   bool
		wantErr   []string // substrings; none: no error
	}{
		{"no lock, required", nil, Retention{}, true, []string{"has no Object Lock", "--object-lock-enabled-for-bucket", "drop --require-object-lock"}},
		{"no lock, not required", nil, Retention{}, false, nil},
		{"no lock, retention asked", nil, gov, false, []string{"has no Object Lock", "drop --retention-mode"}},
		{"lock without default, required", []s3test.Option{s3test.WithObjectLock()}, Retention{}, true, []string{"no default retention", "--retention-mode"}},
		{"lock without default, retention of the store", []s3test.Option{s3test.WithObjectLock()}, gov, true, nil},
		{"default retention, required", []s3test.Option{s3test.WithDefaultRetention(types.ObjectLockRetentionModeCompliance, 1)}, Retention{}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, b := newStore(t, Options{Retention: tt.retention}, tt.bucket...)
			_, err := s.CheckWORM(context.Background(), tt.require)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("CheckWORM: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckWORM: no error, want one saying %q", tt.wantErr)
			}
			for _, w := range append(tt.wantErr, b.Name) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckWORM error %q does not say %q", err, w)
				}
			}
		})
	}
}
