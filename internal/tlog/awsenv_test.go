package tlog

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/testutil/mariadb"
	s3test "github.com/slipway/actions/internal/testutil/s3"
)

// awsTarget is a bucket and a database for a log, as a test passes them
// to a child process (in its environment: they hold secrets).
type awsTarget struct {
	Bucket, Endpoint, Region, AccessKey, SecretKey, DSN string
}

func (a awsTarget) config() AWS {
	return AWS{
		Bucket: a.Bucket, DSN: a.DSN,
		SDK: aws.Config{Region: a.Region, Credentials: credentials.NewStaticCredentialsProvider(a.AccessKey, a.SecretKey, "")},
		S3Options: func(o *s3.Options) {
			o.BaseEndpoint = aws.String(a.Endpoint)
			o.UsePathStyle = true
		},
	}
}

// testAWS: a fresh database (internal/testutil/mariadb) and a fresh bucket
// (internal/testutil/s3) on the machine's real services.
func testAWS(t *testing.T) awsTarget {
	t.Helper()
	b := s3test.New(t)
	dsn := mariadb.New(t)
	return awsTarget{Bucket: b.Name, Endpoint: b.Endpoint, Region: b.Region, AccessKey: b.AccessKey, SecretKey: b.SecretKey, DSN: dsn}
}
