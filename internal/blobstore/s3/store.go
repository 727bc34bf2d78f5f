package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
)

// KeyPrefix starts every blob's key: sha256/<hex>.
const KeyPrefix = "sha256/"

// DefaultPartSize is the part size of multipart uploads, and the largest
// blob sent in one PutObject: S3 allows 10,000 parts, so blobs up to
// 640 GB use it (larger ones get larger parts).
const DefaultPartSize = 64 << 20

// tempPrefix starts the names of the local files Put stages blobs in; a
// crash can leave one behind, and New removes them.
const tempPrefix = ".s3-incoming-"

// Options configure a Store.
type Options struct {
	// TempDir is the local directory Put stages content in before it is
	// checked and sent; os.TempDir() when empty.
	TempDir string
	// Retention, when its Mode is set, is given to every blob stored
	// (Object Lock retain-until = store time + period); else the bucket's
	// default retention applies, if it has one.
	Retention Retention
	// PartSize overrides DefaultPartSize (at least 5 MiB, S3's minimum).
	PartSize int64
	// Now is the clock retention dates come from; time.Now when nil.
	Now func() time.Time
}

// Store keeps blobs in a bucket under sha256/<hex>. It is safe for
// concurrent use.
type Store struct {
	c      *awss3.Client
	bucket string
	opts   Options
}

var (
	_ blobstore.Store   = (*Store)(nil)
	_ blobstore.Adopter = (*Store)(nil)
)

// New returns the store for bucket through c, after checking that the
// bucket answers (HeadBucket); it removes the staging files a crash left
// in TempDir.
func New(ctx context.Context, c *awss3.Client, bucket string, opts Options) (*Store, error) {
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < 5<<20 {
		return nil, fmt.Errorf("part size %d is below S3's minimum of 5 MiB (a bug in the caller)", opts.PartSize)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		if status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("bucket %q does not exist: create it first (with Object Lock enabled, docs/server.md), or fix --blobs", bucket)
		}
		return nil, fmt.Errorf("reaching bucket %q: %w; check the endpoint, region and credentials", bucket, err)
	}
	if err := os.MkdirAll(opts.TempDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the blob staging directory %q: %w", opts.TempDir, err)
	}
	stale, _ := filepath.Glob(filepath.Join(opts.TempDir, tempPrefix+"*"))
	for _, p := range stale {
		os.Remove(p)
	}
	return &Store{c: c, bucket: bucket, opts: opts}, nil
}

func key(d digest.SHA256) *string { return aws.String(KeyPrefix + d.Hex()) }

// status is the HTTP status of an S3 error; 0 when it is not one.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Put implements blobstore.Store: the content is staged in a local file
// while it is hashed and counted, checked, then sent (Adopt).
func (s *Store) Put(ctx context.Context, r io.Reader, want digest.SHA256, limit int64) (blobstore.Blob, error) {
	tmp, err := os.CreateTemp(s.opts.TempDir, tempPrefix+"*")
	if err != nil {
		return blobstore.Blob{}, fmt.Errorf("staging a blob in %q: %w", s.opts.TempDir, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	got, n, err := blobstore.Receive(ctx, tmp, r, want, limit)
	if err != nil {
		if ctx.Err() != nil || errors.As(err, new(*blobstore.TooLargeError)) || errors.As(err, new(*blobstore.MismatchError)) {
			return blobstore.Blob{}, err
		}
		return blobstore.Blob{}, fmt.Errorf("staging a blob in %q: %w", s.opts.TempDir, err)
	}
	return s.send(ctx, tmp, got, n)
}

// Adopt implements blobstore.Adopter: the file the caller received and
// hashed is sent as it is, with no local copy.
func (s *Store) Adopt(ctx context.Context, path string, d digest.SHA256, size int64) (blobstore.Blob, error) {
	f, err := os.Open(path)
	if err != nil {
		return blobstore.Blob{}, fmt.Errorf("adopting %q as blob %q: %w", path, d, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return blobstore.Blob{}, fmt.Errorf("adopting %q as blob %q: not a regular file of %d bytes (%v); upload the blob again", path, d, size, err)
	}
	return s.send(ctx, f, d, size)
}

// send stores the checked content of f (size bytes, digest d) at d's key
// unless it is there: one conditional PutObject (If-None-Match: *) carrying
// the SHA-256 for the service to check, or a multipart upload completed
// with If-None-Match: *. A 412 means another writer stored it first.
func (s *Store) send(ctx context.Context, f *os.File, d digest.SHA256, size int64) (blobstore.Blob, error) {
	blob := blobstore.Blob{Digest: d, Size: size}
	if _, err := s.Stat(ctx, d); err == nil {
		blob.Existed = true
		return blob, nil
	} else if !errors.Is(err, blobstore.ErrNotFound) {
		return blobstore.Blob{}, err
	}
	var err error
	if size <= s.partSize(size) {
		err = s.putObject(ctx, f, d, size)
	} else {
		err = s.multipart(ctx, f, d, size)
	}
	if status(err) == http.StatusPreconditionFailed {
		blob.Existed = true
		return blob, nil
	}
	if err != nil {
		return blobstore.Blob{}, fmt.Errorf("storing blob %q in bucket %q: %w", d, s.bucket, err)
	}
	return blob, nil
}

func (s *Store) partSize(size int64) int64 {
	return max(s.opts.PartSize, (size+9999)/10000)
}

// lock is the Object Lock retention each new blob gets (none when
// Retention has no mode: the bucket's default applies then).
func (s *Store) lock() (types.ObjectLockMode, *time.Time) {
	if s.opts.Retention.Mode == "" {
		return "", nil
	}
	until := s.opts.Retention.Period.After(s.opts.Now()).UTC()
	return s.opts.Retention.Mode, &until
}

func (s *Store) putObject(ctx context.Context, f *os.File, d digest.SHA256, size int64) error {
	mode, until := s.lock()
	_, err := s.c.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: key(d),
		Body: io.NewSectionReader(f, 0, size), ContentLength: aws.Int64(size), ContentType: aws.String("application/octet-stream"),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(d[:])),
		IfNoneMatch:    aws.String("*"),
		ObjectLockMode: mode, ObjectLockRetainUntilDate: until,
	})
	return err
}

// multipart sends f in parts, each with its SHA-256 for the service to
// check, and completes the upload only when every part arrived; on any
// failure the upload is aborted, so nothing of it is ever visible.
func (s *Store) multipart(ctx context.Context, f *os.File, d digest.SHA256, size int64) (err error) {
	mode, until := s.lock()
	up, err := s.c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: key(d), ContentType: aws.String("application/octet-stream"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ObjectLockMode:    mode, ObjectLockRetainUntilDate: until,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Nothing was completed: drop the parts (a detached context: the
			// request may have been cancelled).
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			s.c.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: key(d), UploadId: up.UploadId})
		}
	}()
	part := s.partSize(size)
	var done []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+part, n+1 {
		length := min(part, size-off)
		sum, err := sectionSHA256(ctx, f, off, length)
		if err != nil {
			return err
		}
		out, err := s.c.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String(s.bucket), Key: key(d), UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: io.NewSectionReader(f, off, length), ContentLength: aws.Int64(length),
			ChecksumSHA256: aws.String(sum),
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumSHA256: aws.String(sum)})
	}
	_, err = s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: key(d), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
		IfNoneMatch:     aws.String("*"),
	})
	return err
}

// sectionSHA256 is the base64 SHA-256 of length bytes of f at off.
func sectionSHA256(ctx context.Context, f *os.File, off, length int64) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, digest.ContextReader(ctx, io.NewSectionReader(f, off, length)), make([]byte, 128<<10)); err != nil {
		return "", fmt.Errorf("hashing a part: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// Stat implements blobstore.Store (HeadObject).
func (s *Store) Stat(ctx context.Context, d digest.SHA256) (blobstore.Blob, error) {
	out, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: key(d)})
	if status(err) == http.StatusNotFound {
		return blobstore.Blob{}, fmt.Errorf("blob %q: %w", d, blobstore.ErrNotFound)
	}
	if err != nil {
		return blobstore.Blob{}, fmt.Errorf("reading blob %q in bucket %q: %w", d, s.bucket, err)
	}
	return blobstore.Blob{Digest: d, Size: aws.ToInt64(out.ContentLength), Existed: true}, nil
}
