package policytest

import (
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// NewSigstore makes a private Sigstore (sigstoretest.New) for trust policy
// tests: its clock is the test's (now, to the second, until SetNow), and its
// trusted root lists a CT log, for policies that require SCTs.
func NewSigstore(t testing.TB) *sigstoretest.Sigstore {
	t.Helper()
	return sigstoretest.New(t, sigstoretest.WithClock(time.Now().Truncate(time.Second)), sigstoretest.WithCTLog())
}
