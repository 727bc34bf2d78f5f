package s3

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// New gives a working bucket, with the default retention asked for, and the cleanup removes it even when an
// object in it is under governance retention.
func TestNewAndCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var b Bucket
	t.Run("bucket", func(t *testing.T) {
		b = New(t, WithDefaultRetention(types.ObjectLockRetentionModeGovernance, 1))
		if len(b.Name) > 63 || !strings.HasPrefix(b.Name, "slw-testnewandcleanup-bucket-") {
			t.Errorf("bucket name %q", b.Name)
		}
		_, err := b.Client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k"), Body: strings.NewReader("v")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := b.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(body) != "v" {
			t.Errorf("GetObject: %q", body)
		}
		lc, err := b.Client.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: aws.String(b.Name)})
		if err != nil || lc.ObjectLockConfiguration.Rule == nil || lc.ObjectLockConfiguration.Rule.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance {
			t.Errorf("GetObjectLockConfiguration = %+v, %v; want the default governance retention", lc, err)
		}
		// The default retention holds the object (the cleanup bypasses it).
		if _, err := b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String("k")}); err == nil {
			t.Error("DeleteObject under the bucket's default retention succeeded")
		}
		// The same client, built from Config and S3Options as tessera's AWS driver is.
		c := awss3.NewFromConfig(b.Config(), b.S3Options)
		if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(b.Name)}); err != nil {
			t.Errorf("HeadBucket through Config and S3Options: %v", err)
		}
	})
	if b.Client == nil {
		return
	}
	_, err := b.Client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(b.Name)})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("after the test the bucket %q still answers HeadBucket: %v", b.Name, err)
	}
}

func TestBucketName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"TestX", "TestVeryLong/" + strings.Repeat("Sub_Test ", 20), "Test/ÄÖ/--/x"} {
		got := bucketName(name)
		if len(got) < 3 || len(got) > 63 || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.Contains(got, "--") {
			t.Errorf("bucketName(%q) = %q: not a valid bucket name", name, got)
		}
	}
}
