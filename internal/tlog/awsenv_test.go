package tlog

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/testutil/mariadb"
)

// awsTarget is a bucket and a database for a log, as a test passes them
// to a child process (in its environment: they hold secrets).
type awsTarget struct {
	Bucket, Endpoint, AccessKey, SecretKey, DSN string
}

func (a awsTarget) config() AWS {
	return AWS{
		Bucket: a.Bucket, DSN: a.DSN,
		SDK: aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(a.AccessKey, a.SecretKey, "")},
		S3Options: func(o *s3.Options) {
			o.BaseEndpoint = aws.String(a.Endpoint)
			o.UsePathStyle = true
		},
	}
}

// testAWS: a fresh database (internal/testutil/mariadb) and a fresh bucket
// on the S3 service named by SCALEOUT_S3 (endpoint), with credentials
// SCALEOUT_S3_ACCESS/SECRET.
func testAWS(t *testing.T) awsTarget {
	t.Helper()
	endpoint := os.Getenv("SCALEOUT_S3")
	if endpoint == "" {
		t.Skip("no SCALEOUT_S3")
	}
	a := awsTarget{Bucket: "b" + strings.ToLower(rand.Text()[:12]), Endpoint: endpoint, AccessKey: os.Getenv("SCALEOUT_S3_ACCESS"), SecretKey: os.Getenv("SCALEOUT_S3_SECRET"), DSN: mariadb.New(t)}
	c := a.config()
	if _, err := s3.NewFromConfig(c.SDK, c.S3Options).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(a.Bucket)}); err != nil {
		t.Fatal(err)
	}
	return a
}
