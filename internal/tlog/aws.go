package tlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awsdriver "github.com/transparency-dev/tessera/storage/aws"
)

// MinAWSCheckpointInterval is the shortest checkpoint interval tessera's
// AWS driver accepts, and OpenAWS's default: receipts of a log in a bucket
// take one to two seconds (the driver integrates once a second).
const MinAWSCheckpointInterval = time.Second

// awsAwaitPoll is how often a log in a bucket reads its checkpoint while
// appends wait for one: one GET per poll per replica, whatever the load.
const awsAwaitPoll = 100 * time.Millisecond

// AWS says where a log kept by tessera's AWS driver lives, so that several
// servers (replicas) append to one log: an S3 bucket holds its tiles, entry
// bundles and checkpoint, in the C2SP tlog-tiles layout at the bucket's
// root; a MySQL-compatible database sequences the entries and coordinates
// the replicas (tessera's tables Tessera, SeqCoord, Seq, IntCoord, PubCoord
// and GCCoord, created on first use). Both must exist. One bucket holds one
// log, and its database belongs to that bucket alone.
type AWS struct {
	// Bucket is the S3 bucket's name.
	Bucket string
	// SDK is the AWS SDK configuration for the bucket: region, credentials.
	SDK aws.Config
	// S3Options adjust the S3 client, e.g. BaseEndpoint and UsePathStyle
	// for an S3-compatible server (Ceph RGW, MinIO, versitygw); may be nil.
	S3Options func(*s3.Options)
	// DSN is the database in go-sql-driver/mysql's form,
	// USER:PASSWORD@tcp(HOST:PORT)/DATABASE. It holds a password: it is
	// never logged or put in an error.
	DSN string
}

// OpenAWS opens the log kept in cfg's bucket and database, creating it when
// the bucket holds no checkpoint yet. Every replica of a log opens it with
// the same signing key: opts.KeyFile must name an existing key (CreateKey
// makes one); OpenAWS never creates one, since a key made by one replica
// would not be the others'. opts.CheckpointInterval defaults to, and may
// not be under, MinAWSCheckpointInterval.
func OpenAWS(ctx context.Context, cfg AWS, opts Options) (*Log, error) {
	if cfg.Bucket == "" || cfg.DSN == "" {
		return nil, errors.New("opening a log in a bucket: the bucket and the database are both needed: give the log's bucket and its database")
	}
	where := "s3://" + cfg.Bucket
	if opts.KeyFile == "" {
		return nil, fmt.Errorf("opening log %s: no signing key given: the replicas of a log share one key; create it once with \"slipway log-key --log-key FILE --log-origin ORIGIN\" and give that file to every replica (--log-key)", where)
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = MinAWSCheckpointInterval
	}
	if opts.CheckpointInterval < MinAWSCheckpointInterval {
		return nil, fmt.Errorf("opening log %s: checkpoint interval %s is under %s, tessera's AWS driver's minimum: give at least %s", where, opts.CheckpointInterval, MinAWSCheckpointInterval, MinAWSCheckpointInterval)
	}
	opts = opts.withDefaults("")
	signer, skey, err := loadKey(opts.KeyFile, opts.Origin)
	if err != nil {
		return nil, fmt.Errorf("opening log %s: %w; the replicas of a log share one key: create it once with \"slipway log-key --log-key FILE --log-origin ORIGIN\" and give that file to every replica", where, err)
	}
	vkey, err := verifierOf(skey)
	if err != nil {
		return nil, fmt.Errorf("opening log %s: log key %q: %w: restore the key file from backup", where, opts.KeyFile, err)
	}
	s3opts := cfg.S3Options
	if s3opts == nil {
		s3opts = func(*s3.Options) {}
	}
	client := s3.NewFromConfig(cfg.SDK, s3opts)
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("opening log %s: %w: check that the bucket exists (create it first), that the endpoint and region are right and that the credentials may read and write it", where, err)
	}
	sdk := cfg.SDK
	driver, err := awsdriver.New(ctx, awsdriver.Config{
		SDKConfig: &sdk, S3Options: s3opts, Bucket: cfg.Bucket, DSN: cfg.DSN,
		MaxOpenConns: 16, MaxIdleConns: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("opening log %s: %w", where, err)
	}
	l := &Log{where: where, handler: &bucketHandler{client: client, bucket: cfg.Bucket}}
	if err := l.start(ctx, driver, signer, vkey, opts, awsAwaitPoll); err != nil {
		return nil, fmt.Errorf("opening log %s: %w: check that the database exists, is reachable and lets the user create tables, and that it belongs to this bucket alone (one database per log)", where, err)
	}
	return l, nil
}

// bucketHandler serves the public files of a log in a bucket, read from
// the bucket: the same names, headers and refusals as Handler.
type bucketHandler struct {
	client *s3.Client
	bucket string
}

func (h *bucketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := publicName(w, r)
	if !ok {
		return
	}
	obj, err := h.client.GetObject(r.Context(), &s3.GetObjectInput{Bucket: aws.String(h.bucket), Key: aws.String(name)})
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "log unavailable", http.StatusServiceUnavailable)
		return
	}
	defer obj.Body.Close()
	setHeaders(w, name)
	if obj.ContentLength != nil {
		w.Header().Set("Content-Length", strconv.FormatInt(*obj.ContentLength, 10))
	}
	if obj.LastModified != nil {
		w.Header().Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, obj.Body)
}
