package s3

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slipway/actions/internal/testutil/tools"
)

// Environment variables and files this package reads.
const (
	// EnvFile names the file with the service's endpoint and credentials; DefaultEnvFile when unset.
	EnvFile = "SLIPWAY_S3_ENV"
	// DefaultEnvFile is where scripts/setup writes them (mode 0600, root only).
	DefaultEnvFile = "/var/lib/slipway-s3/credentials.env"
)

// Region is the region every bucket is in (versitygw's default; it checks signatures against it).
const Region = "us-east-1"

// Bucket is a bucket created for one test, with what a client needs to reach it.
type Bucket struct {
	Name      string
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
	// Client is an S3 client for the service with the root credentials.
	Client *awss3.Client
}

// Config is the SDK configuration of the service: region and static root credentials. The endpoint is an S3
// option (S3Options), not part of it.
func (b Bucket) Config() aws.Config {
	return aws.Config{Region: b.Region, Credentials: credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, "")}
}

// S3Options points an S3 client at the service: BaseEndpoint and path-style addressing
// (awss3.NewFromConfig(b.Config(), b.S3Options)).
func (b Bucket) S3Options(o *awss3.Options) {
	o.BaseEndpoint = aws.String(b.Endpoint)
	o.UsePathStyle = true
}

// URL is the bucket as slipway serve --blobs takes it: s3://NAME?endpoint=…&region=…&path-style=true (the
// credentials are not in it: see Env).
func (b Bucket) URL() string {
	q := url.Values{"endpoint": {b.Endpoint}, "region": {b.Region}, "path-style": {"true"}}
	return "s3://" + b.Name + "?" + q.Encode()
}

// Env holds the credentials as the standard AWS environment variables, for a child process or an in-process
// getenv.
func (b Bucket) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + b.AccessKey, "AWS_SECRET_ACCESS_KEY=" + b.SecretKey, "AWS_REGION=" + b.Region}
}

// Option configures the bucket New creates.
type Option func(*options)

type options struct {
	objectLock bool
	retention  *types.DefaultRetention
}

// WithObjectLock creates the bucket with Object Lock enabled (CreateBucket ObjectLockEnabledForBucket).
func WithObjectLock() Option { return func(o *options) { o.objectLock = true } }

// WithDefaultRetention enables Object Lock and gives the bucket a default retention of days in mode
// (PutObjectLockConfiguration). Use governance mode in tests: the cleanup can lift it; objects under compliance
// retention stay in the service until it expires.
func WithDefaultRetention(mode types.ObjectLockRetentionMode, days int32) Option {
	return func(o *options) {
		o.objectLock = true
		o.retention = &types.DefaultRetention{Mode: mode, Days: aws.Int32(days)}
	}
}

// New creates a fresh bucket for t in the machine's S3 service and removes it when the test ends: objects are
// deleted with governance retention bypassed, unfinished multipart uploads aborted; objects under compliance
// retention (and so the bucket) are left, and the cleanup says so. Without the service (scripts/setup not run,
// or versitygw not answering) the test is skipped, or failed under SLIPWAY_REQUIRE_TOOLS=1.
func New(t testing.TB, opts ...Option) Bucket {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	b, err := service()
	if err != nil {
		tools.Unavailable(t, err.Error())
		return Bucket{}
	}
	b.Name = bucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := &awss3.CreateBucketInput{Bucket: aws.String(b.Name)}
	if o.objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := b.Client.CreateBucket(ctx, in); err != nil {
		t.Fatalf("s3: creating bucket %q at %s: %v", b.Name, b.Endpoint, err)
	}
	t.Cleanup(func() { remove(t, b) })
	if o.retention != nil {
		_, err := b.Client.PutObjectLockConfiguration(ctx, &awss3.PutObjectLockConfigurationInput{
			Bucket: aws.String(b.Name),
			ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
				Rule: &types.ObjectLockRule{DefaultRetention: o.retention}},
		})
		if err != nil {
			t.Fatalf("s3: setting the default retention of bucket %q: %v", b.Name, err)
		}
	}
	return b
}

// service reads the endpoint and credentials scripts/setup wrote and checks that the service answers.
func service() (Bucket, error) {
	path := os.Getenv(EnvFile)
	if path == "" {
		path = DefaultEnvFile
	}
	vars, err := readEnv(path)
	if err != nil {
		return Bucket{}, fmt.Errorf("the S3 service's settings: %w", err)
	}
	b := Bucket{Endpoint: vars["SLIPWAY_S3_ENDPOINT"], Region: Region, AccessKey: vars["AWS_ACCESS_KEY_ID"], SecretKey: vars["AWS_SECRET_ACCESS_KEY"]}
	if r := vars["AWS_REGION"]; r != "" {
		b.Region = r
	}
	if b.Endpoint == "" || b.AccessKey == "" || b.SecretKey == "" {
		return Bucket{}, fmt.Errorf("%s lacks SLIPWAY_S3_ENDPOINT, AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY", path)
	}
	if err := answers(b.Endpoint); err != nil {
		return Bucket{}, fmt.Errorf("the S3 service (versitygw) does not answer at %s: %v", b.Endpoint, err)
	}
	b.Client = awss3.NewFromConfig(b.Config(), b.S3Options)
	return b, nil
}

// readEnv reads KEY=VALUE lines; # starts a comment line.
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	return vars, sc.Err()
}

// answers checks that something speaks HTTP at endpoint (any status: an anonymous request is refused).
func answers(endpoint string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(endpoint + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// bucketName is a valid, unique bucket name (3-63 characters: lowercase letters, digits, hyphens) that starts
// with a readable part of the test's name.
func bucketName(test string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case sb.Len() > 0 && !strings.HasSuffix(sb.String(), "-"):
			sb.WriteByte('-')
		}
		if sb.Len() >= 36 {
			break
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	readable := strings.Trim(sb.String(), "-")
	if readable == "" {
		readable = "test"
	}
	return "slw-" + readable + "-" + hex.EncodeToString(rnd[:])
}

// remove empties and deletes b, bypassing governance retention.
func remove(t testing.TB, b Bucket) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, name := b.Client, aws.String(b.Name)
	ups, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: name})
	if err == nil {
		for _, u := range ups.Uploads {
			c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: name, Key: u.Key, UploadId: u.UploadId})
		}
	}
	var kept []string
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("s3: listing bucket %q to remove it: %v", b.Name, err)
			return
		}
		for _, obj := range page.Contents {
			_, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: name, Key: obj.Key, BypassGovernanceRetention: aws.Bool(true)})
			if err != nil {
				kept = append(kept, aws.ToString(obj.Key))
			}
		}
	}
	if len(kept) > 0 {
		t.Logf("s3: bucket %q left in the service: objects %q could not be deleted (compliance retention?)", b.Name, kept)
		return
	}
	if _, err := c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: name}); err != nil {
		var nb *types.NoSuchBucket
		if !errors.As(err, &nb) {
			t.Errorf("s3: removing bucket %q: %v", b.Name, err)
		}
	}
}
