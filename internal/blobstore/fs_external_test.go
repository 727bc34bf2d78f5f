package blobstore_test

import (
	"testing"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/blobstore/blobstoretest"
)

func TestFSConformance(t *testing.T) {
	t.Parallel()
	blobstoretest.Run(t, func(t *testing.T) blobstore.Store {
		s, err := blobstore.NewFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
