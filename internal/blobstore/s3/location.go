package s3

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/lazyregexp"
)

// Location is a bucket of an S3-compatible service, as slipway serve
// --blobs names it: s3://BUCKET?endpoint=URL&region=R&path-style=true. It
// holds no credentials: those come from the standard AWS environment
// variables or shared configuration (LoadConfig).
type Location struct {
	Bucket string
	// Endpoint is the service's URL (Ceph RGW, MinIO, versitygw); empty
	// for AWS S3 itself.
	Endpoint string
	// Region signs requests; empty takes AWS_REGION or the shared config's.
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name (bucket.endpoint/key), as most services
	// other than AWS need.
	PathStyle bool
}

// bucketName is S3's rule for bucket names (3-63 lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit).
var bucketName = lazyregexp.New(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseURL reads an s3:// blob store URL; the query keys are endpoint,
// region and path-style, nothing else.
func ParseURL(raw string) (Location, error) {
	const how = "give it as s3://BUCKET?endpoint=https://host:port&region=REGION&path-style=true (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never in the URL)"
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("blob store URL: %v; %s", err, how)
	}
	if u.Scheme != "s3" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return Location{}, fmt.Errorf("blob store URL %q is not s3://BUCKET with a query; %s", u.Redacted(), how)
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("blob store URL %q holds credentials: they never go in a URL (it is logged); %s", u.Redacted(), how)
	}
	l := Location{Bucket: u.Host}
	if !bucketName.MatchString(l.Bucket) {
		return Location{}, fmt.Errorf("blob store URL: %q is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens); %s", l.Bucket, how)
	}
	q := u.Query()
	for k, v := range q {
		if !slices.Contains([]string{"endpoint", "region", "path-style"}, k) || len(v) != 1 {
			return Location{}, fmt.Errorf("blob store URL: query key %q is unknown or repeated; %s", k, how)
		}
	}
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" || eu.User != nil {
			return Location{}, fmt.Errorf("blob store URL: endpoint %q is not an http(s) URL without credentials; %s", e, how)
		}
		l.Endpoint = e
	}
	l.Region = q.Get("region")
	if ps := q.Get("path-style"); ps != "" {
		if l.PathStyle, err = strconv.ParseBool(ps); err != nil {
			return Location{}, fmt.Errorf("blob store URL: path-style %q is not true or false; %s", ps, how)
		}
	}
	return l, nil
}

// String is the location as a URL (it holds nothing secret).
func (l Location) String() string {
	q := url.Values{}
	if l.Endpoint != "" {
		q.Set("endpoint", l.Endpoint)
	}
	if l.Region != "" {
		q.Set("region", l.Region)
	}
	if l.PathStyle {
		q.Set("path-style", "true")
	}
	s := "s3://" + l.Bucket
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// ClientOptions points an S3 client at the location's service
// (awss3.NewFromConfig(cfg, l.ClientOptions)).
func (l Location) ClientOptions(o *awss3.Options) {
	if l.Endpoint != "" {
		o.BaseEndpoint = aws.String(l.Endpoint)
	}
	o.UsePathStyle = l.PathStyle
	// Checksums only where S3 requires them: Put sends the blob's SHA-256
	// itself, and a CRC on every part would be a third pass over the data.
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// LoadConfig is the SDK configuration for l: its region, and credentials
// from getenv's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN) when set, else from the SDK's default chain (shared
// config and credentials files, AWS_PROFILE, web identity, instance
// roles). It fails when no region is known or no credentials are found,
// saying where to put them; it never reads them from a flag.
func LoadConfig(ctx context.Context, l Location, getenv func(string) string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if l.Region != "" {
		opts = append(opts, config.WithRegion(l.Region))
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration for %s: %w; check AWS_PROFILE and the shared config files", l, err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no region for %s: add region=REGION to the URL, or set AWS_REGION", l)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("no credentials for %s (%v): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a shared credentials file", l, err)
	}
	return cfg, nil
}
