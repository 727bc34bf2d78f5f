package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/exitcode"
)

// TagExistsError is a tag that already points at other content.
type TagExistsError struct {
	Ref      string
	Existing string // digest the tag points at
	New      string // digest of the content to push
}

func (e *TagExistsError) Error() string {
	return fmt.Sprintf("tag %q already points at %s, but the content to push is %s; tags are immutable here: push to a new tag, or set allow-overwrite: true (--allow-overwrite) to move the tag",
		e.Ref, e.Existing, e.New)
}

// classify turns an error from a registry call into a marked error with an
// exit code and a message that names the registry, what failed and what to
// do. op says what was being done ("checking tag …", "uploading …").
func classify(err error, op, registry string, creds *credSource) error {
	if err == nil {
		return nil
	}
	var coded *exitcode.Error
	if errors.As(err, &coded) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return exitcode.Infra(fmt.Errorf("%s: %w", op, err))
	}
	var ce *contentError
	if errors.As(err, &ce) {
		return exitcode.WithFile(exitcode.Failure(fmt.Errorf("%s: %w", op, ce)), ce.path)
	}
	var fe *fileError
	if errors.As(err, &fe) {
		if errors.Is(fe, fs.ErrNotExist) {
			return exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%s: %w; it was there when the push began: do not remove files while pushing them", op, fe)), fe.path)
		}
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("%s: %w", op, fe)), fe.path)
	}
	var cred *credentialsError
	if errors.As(err, &cred) {
		return exitcode.BadInput(fmt.Errorf("%s: %w", op, cred))
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return classifyStatus(te, op, registry, creds)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(err, fs.ErrNotExist) {
			return exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%s: %w; the file is missing", op, err)), pe.Path)
		}
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("%s: %w", op, err)), pe.Path)
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return exitcode.Infra(fmt.Errorf("%s: registry %s presented a TLS certificate this machine does not trust: %w; add its CA to the system trust store (or SSL_CERT_FILE), or fix the registry's certificate", op, registry, err))
	}
	var ne net.Error
	var oe *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.As(err, &dnsErr) {
		return exitcode.Infra(fmt.Errorf("%s: cannot reach registry %s: %w; check that it is running and reachable from this machine (host name, port, firewall, proxy settings)", op, registry, err))
	}
	return exitcode.Infra(fmt.Errorf("%s at registry %s: %w; check that the registry is reachable and healthy", op, registry, err))
}

func classifyStatus(te *transport.Error, op, registry string, creds *credSource) error {
	switch te.StatusCode {
	case http.StatusUnauthorized:
		if creds.anonymous() {
			return exitcode.BadInput(fmt.Errorf("%s: registry %s needs credentials and none were found (401 Unauthorized): %w; set REGISTRY_USERNAME and REGISTRY_PASSWORD, pass GITHUB_TOKEN for ghcr.io, or run \"docker login %s\"", op, registry, te, registry))
		}
		return exitcode.BadInput(fmt.Errorf("%s: registry %s refused %s (401 Unauthorized): %w; check the username and password (REGISTRY_USERNAME/REGISTRY_PASSWORD), the token, or run \"docker login %s\"", op, registry, creds, te, registry))
	case http.StatusForbidden:
		return exitcode.BadInput(fmt.Errorf("%s: registry %s denied %s (403 Forbidden): %w; give these credentials push access to the repository (for ghcr.io: \"packages: write\" in the workflow's permissions)", op, registry, creds, te))
	case http.StatusNotFound:
		return exitcode.BadInput(fmt.Errorf("%s: registry %s has no such repository or upload (404): %w; check the repository name, and create the repository first if this registry does not create it on push", op, registry, te))
	}
	for _, c := range RetryStatusCodes {
		if te.StatusCode == c {
			return exitcode.Infra(fmt.Errorf("%s: registry %s kept failing (%d %s) after retries: %w; check that the registry is reachable and healthy, then run again", op, registry, te.StatusCode, http.StatusText(te.StatusCode), te))
		}
	}
	if te.StatusCode >= 500 {
		return exitcode.Infra(fmt.Errorf("%s: registry %s failed (%d %s): %w; check the registry's health and logs, then run again", op, registry, te.StatusCode, http.StatusText(te.StatusCode), te))
	}
	return exitcode.Failure(fmt.Errorf("%s: registry %s refused the request (%d %s): %w; the registry may not accept this content (media type, size or manifest format)", op, registry, te.StatusCode, http.StatusText(te.StatusCode), te))
}
