package signing

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestStart: a signer loaded in the background signs once loaded; a failed
// load is the error of Wait and of every signature and cancels with itself
// as the cause; a signature waiting on a load gives up with its context.
func TestStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := sigstoretest.NewCosignKey(t, "pw")

	p := Start(ctx, Options{Key: key.PrivatePath, Password: []byte("pw")}, nil)
	if _, err := p.SignDSSE(ctx, "application/vnd.in-toto+json", []byte("{}")); err != nil {
		t.Fatalf("SignDSSE() = %v", err)
	}
	if s, err := p.Wait(); err != nil || s == nil || s.KeyHint() == "" {
		t.Fatalf("Wait() = %v, %v", s, err)
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	bad := Start(runCtx, Options{Key: key.PrivatePath, Password: []byte("wrong")}, cancel)
	if _, err := bad.Wait(); err == nil || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Wait() error = %v (code %v), want a bad input error", err, exitcode.Of(err))
	}
	if _, err := bad.SignDSSE(ctx, "x", nil); err == nil || !strings.Contains(err.Error(), "COSIGN_PASSWORD secret is wrong") {
		t.Errorf("SignDSSE() after a failed load = %v", err)
	}
	if cause := context.Cause(runCtx); cause == nil || !strings.Contains(cause.Error(), "COSIGN_PASSWORD") {
		t.Errorf("the failed load did not cancel with its error: cause = %v", cause)
	}

	// A keyless load that waits for a token that never comes.
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	never := Start(loadCtx, Options{FulcioURL: "http://127.0.0.1:1", IDToken: func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}}, nil)
	cancelled, cancelSign := context.WithCancelCause(ctx)
	stop := errors.New("stop")
	cancelSign(stop)
	if _, err := never.SignDSSE(cancelled, "x", nil); !errors.Is(err, stop) {
		t.Errorf("SignDSSE() on a cancelled context = %v, want its cause", err)
	}
	var nilPending *Pending
	if s, err := nilPending.Wait(); s != nil || err != nil {
		t.Errorf("nil Pending Wait() = %v, %v", s, err)
	}
}
