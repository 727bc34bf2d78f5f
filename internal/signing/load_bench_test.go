package signing

import (
	"context"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// BenchmarkNewFromKeyFile measures loading a cosign key file: the scrypt
// key derivation that decrypts it dominates, a fixed cost per run that the
// sign stage overlaps with hashing.
func BenchmarkNewFromKeyFile(b *testing.B) {
	key := sigstoretest.NewCosignKey(b, "bench")
	for b.Loop() {
		if _, err := New(context.Background(), Options{Key: key.PrivatePath, Password: []byte("bench")}); err != nil {
			b.Fatal(err)
		}
	}
}
