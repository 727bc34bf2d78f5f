package signing

import (
	"encoding/pem"
	"fmt"
	"io"
	"strings"

	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
)

// encryptedKey is a cosign private key's PEM as read, before decryption.
type encryptedKey struct {
	pem []byte
	// what is the noun phrase that names the key and where it came from in
	// errors ("the cosign key file \"k\"", "the cosign key in the
	// COSIGN_KEY secret (cosign-key)"); file is the key file or "".
	what, file string
}

// readKey reads the encrypted key that ref or opts.KeyPEM names and checks
// that it is a cosign private key's PEM. ok is false when they name none
// (a KMS key, or keyless). Errors never quote the key.
func readKey(ref KeyRef, opts Options) (k encryptedKey, ok bool, err error) {
	if ref.Kind != KeyNone && len(opts.KeyPEM) > 0 {
		return k, false, exitcode.BadInputf("both key %q and the %s secret (cosign-key) are set; use one of them", ref.String(), KeyEnv)
	}
	switch {
	case ref.Kind == KeyFile:
		k = encryptedKey{what: fmt.Sprintf("the cosign key file %q", ref.Path), file: ref.Path}
		f, err := regfile.Open(ref.Path)
		if err != nil {
			return k, false, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("opening cosign key: %w; give the path of a key written by \"cosign generate-key-pair\" or a KMS URI", err)), ref.Path)
		}
		defer f.Close()
		if k.pem, err = io.ReadAll(io.LimitReader(f, maxKeyFileSize+1)); err != nil {
			return k, false, exitcode.Infra(fmt.Errorf("reading cosign key %q: %w", ref.Path, err))
		}
	case ref.Kind == KeyEnvVar:
		k.what = "the cosign key in the environment variable " + ref.Env
		if opts.Getenv != nil {
			k.pem = []byte(opts.Getenv(ref.Env))
		}
		if strings.TrimSpace(string(k.pem)) == "" {
			return k, false, exitcode.BadInputf("key %q: the environment variable %s is empty or not set; set it to the content of cosign.key (from a secret)", ref.String(), ref.Env)
		}
	case ref.Kind == KeyNone && len(opts.KeyPEM) > 0:
		k = encryptedKey{pem: opts.KeyPEM, what: "the cosign key in the " + KeyEnv + " secret (cosign-key)"}
	default:
		return k, false, nil
	}
	return k, true, k.check()
}

// check checks that k is one PEM block of a cosign private key.
func (k encryptedKey) check() error {
	switch blk, _ := pem.Decode(k.pem); {
	case len(k.pem) > maxKeyFileSize:
		return k.bad("%s is larger than %d bytes: it is not a cosign private key", k.what, maxKeyFileSize)
	case blk == nil:
		return k.bad("%s is not PEM; give the private key written by \"cosign generate-key-pair\" (cosign.key)", k.what)
	case blk.Type != cosign.CosignPrivateKeyPemType && blk.Type != cosign.SigstorePrivateKeyPemType:
		return k.bad("%s holds a %q PEM block, want %q; give the private key (cosign.key), not the public key", k.what, blk.Type, cosign.SigstorePrivateKeyPemType)
	}
	return nil
}

func (k encryptedKey) bad(format string, a ...any) error {
	return exitcode.WithFile(exitcode.BadInputf(format, a...), k.file)
}

// decrypt decrypts k with password, once per process (see decrypted).
func (k encryptedKey) decrypt(password []byte) (signature.SignerVerifier, error) {
	id := decryptedID(k.pem, password)
	if sv, ok := decrypted.Load(id); ok {
		return sv.(signature.SignerVerifier), nil
	}
	sv, err := cosign.LoadPrivateKey(k.pem, password, nil)
	if err != nil {
		if strings.Contains(err.Error(), "decrypt") {
			return nil, k.bad("decrypting %s failed: the COSIGN_PASSWORD secret is wrong or missing; set it to the password given to \"cosign generate-key-pair\"", k.what)
		}
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("loading %s: %w", k.what, err)), k.file)
	}
	decrypted.Store(id, sv)
	return sv, nil
}

// CheckKey checks, without decrypting anything or reaching a KMS, that the
// key opts names can be read: a key file or an env://NAME variable holding
// a cosign private key's PEM, or the COSIGN_KEY secret's PEM. It is for
// checking a pipeline's inputs before its first stage runs.
func CheckKey(opts Options) error {
	ref, err := ParseKeyRef(opts.Key)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"key\": %w", err))
	}
	_, _, err = readKey(ref, opts)
	return err
}
