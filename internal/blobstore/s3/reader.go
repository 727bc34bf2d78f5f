package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
)

// Open implements blobstore.Store: the reader learns the size from
// HeadObject and reads with ranged GETs from wherever it was seeked to, so
// that a Range request fetches only from its start.
func (s *Store) Open(ctx context.Context, d digest.SHA256) (blobstore.Reader, error) {
	b, err := s.Stat(ctx, d)
	if err != nil {
		return nil, err
	}
	return &reader{ctx: ctx, s: s, d: d, size: b.Size}, nil
}

// reader reads one object: a GET from off to the end, opened on the first
// Read after a Seek that moved.
type reader struct {
	ctx  context.Context
	s    *Store
	d    digest.SHA256
	size int64
	off  int64
	body io.ReadCloser
}

func (r *reader) Size() int64 { return r.size }

func (r *reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		out, err := r.s.c.GetObject(r.ctx, &awss3.GetObjectInput{Bucket: aws.String(r.s.bucket), Key: key(r.d),
			Range: aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-")})
		if err != nil {
			return 0, fmt.Errorf("reading blob %q from byte %d in bucket %q: %w", r.d, r.off, r.s.bucket, err)
		}
		r.body = out.Body
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && r.off < r.size {
		return n, fmt.Errorf("reading blob %q in bucket %q: %w at byte %d of %d", r.d, r.s.bucket, io.ErrUnexpectedEOF, r.off, r.size)
	}
	return n, err
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, fmt.Errorf("seeking blob %q: whence %d is not io.SeekStart, SeekCurrent or SeekEnd", r.d, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("seeking blob %q to %d: before its start", r.d, abs)
	}
	if abs != r.off {
		r.close()
		r.off = abs
	}
	return abs, nil
}

func (r *reader) close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}

func (r *reader) Close() error { return r.close() }
