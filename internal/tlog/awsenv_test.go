package tlog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/go-sql-driver/mysql"
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

// testAWS: a fresh database and bucket on the services named by
// SCALEOUT_MYSQL (an admin DSN without database) and SCALEOUT_S3
// (endpoint), with credentials SCALEOUT_S3_ACCESS/SECRET.
func testAWS(t *testing.T) awsTarget {
	t.Helper()
	admin, endpoint := os.Getenv("SCALEOUT_MYSQL"), os.Getenv("SCALEOUT_S3")
	if admin == "" || endpoint == "" {
		t.Skip("no SCALEOUT_MYSQL / SCALEOUT_S3")
	}
	name := "t" + strings.ToLower(rand.Text()[:12])
	db, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	a := awsTarget{Bucket: "b" + name[1:], Endpoint: endpoint, AccessKey: os.Getenv("SCALEOUT_S3_ACCESS"), SecretKey: os.Getenv("SCALEOUT_S3_SECRET"), DSN: admin + name}
	c := a.config()
	if _, err := s3.NewFromConfig(c.SDK, c.S3Options).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(a.Bucket)}); err != nil {
		t.Fatal(err)
	}
	return a
}
