package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

// Open returns a fresh, empty store for t; the store is closed by t.Cleanup (Open registers that itself).
type Open func(t *testing.T) store.Store

// Run runs the whole suite, each test in parallel on its own store from open.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenErrors", testTokenErrors},
		{"RevokeKeepsFirstTime", testRevokeKeepsFirstTime},
		{"TokensOldestFirst", testTokensOldestFirst},
		{"ReleaseRoundTrip", testReleaseRoundTrip},
		{"ReleaseExists", testReleaseExists},
		{"ReleaseManifest", testReleaseManifest},
		{"ReleaseAtomic", testReleaseAtomic},
		{"ArtifactByDigest", testArtifactByDigest},
		{"ReleaseFilesAtomic", testReleaseFilesAtomic},
		{"ReleasesQuery", testReleasesQuery},
		{"ReleasesPaging", testReleasesPaging},
		{"ConcurrentTokens", testConcurrentTokens},
		{"ConcurrentSameManifest", testConcurrentSameManifest},
		{"CanceledContext", testCanceledContext},
		{"DispatchRoundTrip", testDispatchRoundTrip},
		{"DispatchState", testDispatchState},
		{"DispatchAuthorization", testDispatchAuthorization},
		{"DispatchRequests", testDispatchRequests},
		{"ListDispatches", testListDispatches},
		{"Rejections", testRejections},
		{"Intents", testIntents},
		{"Ping", testPing},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, open(t))
		})
	}
}

// at is a time as stores keep it: UTC, whole milliseconds.
func at(ms int64) time.Time { return time.UnixMilli(1_700_000_000_000 + ms).UTC() }

func ctx() context.Context { return context.Background() }
