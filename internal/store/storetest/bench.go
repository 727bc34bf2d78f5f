package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/store"
)

// BenchmarkReleases times Releases on s seeded with 1,000 releases of three artifacts each: the first page as
// the read API asks for it (a page of 20 and one more), and the largest (100 and one more).
func BenchmarkReleases(b *testing.B, s store.Store) {
	const n, writers = 1000, 16
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				r := release(fmt.Sprintf("r-%016x", i), fmt.Sprintf("sha256:%064x", i))
				r.Created, r.SourceRepository = at(int64(i)), fmt.Sprintf("https://github.com/bench/repo-%d", i%10)
				r.Artifacts = []store.Artifact{{Digest: fmt.Sprintf("sha256:a%063x", i), Size: 1, Name: "app.bin"},
					{Digest: fmt.Sprintf("sha256:b%063x", i), Size: 2, Name: "lib.so"}, {Digest: fmt.Sprintf("sha256:c%063x", i), Size: 3, Name: "z.tar"}}
				if err := s.CreateRelease(ctx(), r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	for _, limit := range []int{21, 101} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			for b.Loop() {
				list, err := s.Releases(ctx(), store.ReleaseQuery{Limit: limit})
				if err != nil || len(list) != limit || len(list[limit-1].Artifacts) != 3 {
					b.Fatalf("%d releases, %v", len(list), err)
				}
			}
		})
	}
}
