package signing

import (
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestDecryptedOnce proves a process decrypts a cosign key once for the
// same encrypted PEM and password — the pipeline's sign and attest share the
// work — and never serves a key for a wrong password.
func TestDecryptedOnce(t *testing.T) {
	t.Parallel()
	k := sigstoretest.NewCosignKey(t, "right")
	first, err := encryptedKey{pem: k.PrivatePEM, what: "the test key"}.decrypt([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _, err := readKey(KeyRef{Kind: KeyFile, Path: k.PrivatePath}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := fromFile.decrypt([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("the same key and password were decrypted twice")
	}
	_, err = encryptedKey{pem: k.PrivatePEM, what: "the test key"}.decrypt([]byte("wrong"))
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "COSIGN_PASSWORD secret is wrong") {
		t.Errorf("wrong password after a right one: exit %d, %v", exitcode.Of(err), err)
	}
}
