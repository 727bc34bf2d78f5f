package sbom

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/anchore/stereoscope/pkg/image"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/source"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// syft source provider names: exactly one is used for each kind of subject,
// so that no daemon, local image store or other guess is ever tried.
const (
	providerFile      = "local-file"
	providerDir       = "local-directory"
	providerOCILayout = "oci-dir"
	providerRegistry  = "oci-registry"
)

// openSource returns the syft source for a resolved subject. alias names the
// subject in the document (for files and directories).
func openSource(ctx context.Context, s Subject, alias source.Alias) (source.Source, error) {
	cfg := syft.DefaultGetSourceConfig().
		WithAlias(alias).
		// A file source digests its file with these, in one pass: that digest
		// is the subject's, so nothing here reads the file again.
		WithDigestAlgorithms(crypto.SHA256)
	var input string
	switch s.Kind {
	case KindFile:
		input = s.Path
		cfg = cfg.WithSources(providerFile)
	case KindDir:
		input = s.Path
		cfg = cfg.WithSources(providerDir)
	case KindOCILayout:
		input = s.Path
		cfg = cfg.WithSources(providerOCILayout)
	case KindRegistry:
		input = s.Ref
		cfg = cfg.WithSources(providerRegistry).WithRegistryOptions(registryOptions(s.Ref))
	default:
		return nil, exitcode.Infraf("opening subject %q: unresolved kind %s (internal error)", s.String(), s.Kind)
	}
	src, err := syft.GetSource(ctx, input, cfg)
	if err != nil {
		return nil, sourceError(s, err)
	}
	return src, nil
}

// checkRegistry asks the registry for ref's manifest through transport,
// which bounds the wait, and fails only when the registry did not answer in
// time: every other answer is syft's to read and report.
func checkRegistry(ctx context.Context, ref string, transport http.RoundTripper) error {
	var opts []name.Option
	if r, err := name.ParseReference(ref); err == nil && isLoopback(r.Context().RegistryStr()) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil
	}
	_, err = remote.Head(r, remote.WithContext(ctx), remote.WithTransport(transport), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	var te *timeouts.Error
	if errors.As(err, &te) {
		return exitcode.Infra(fmt.Errorf("reading subject %q: %w", ref, te))
	}
	return nil
}

// registryOptions allows plain HTTP for a registry on a loopback address
// only; everything else needs TLS. Credentials come from the Docker config
// (~/.docker/config.json or $DOCKER_CONFIG), as with docker and crane.
func registryOptions(ref string) *image.RegistryOptions {
	r, err := name.ParseReference(ref)
	if err != nil {
		return &image.RegistryOptions{}
	}
	return &image.RegistryOptions{InsecureUseHTTP: isLoopback(r.Context().RegistryStr())}
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sourceError explains why syft could not open a subject.
func sourceError(s Subject, err error) error {
	if s.Kind == KindRegistry {
		if isRefusal(err) {
			return exitcode.BadInputf("pulling image %q: %w; check the reference and that the registry credentials (docker login) allow pulling it", s.Ref, err)
		}
		return exitcode.Infraf("pulling image %q: %w; check that the registry is reachable (a subject that names no existing path is read as a registry reference)", s.Ref, err)
	}
	return exitcode.WithFile(exitcode.BadInputf("syft cannot catalog subject %q as a %s: %w; give a readable file, directory or OCI image layout", s.String(), s.Kind, err), s.Path)
}

// isRefusal reports whether a registry answered that the image does not
// exist or may not be pulled: the caller's mistake, not the registry's.
// stereoscope does not always wrap the registry's error, so its text is
// looked at too.
func isRefusal(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
			return true
		}
	}
	msg := err.Error()
	for _, code := range []transport.ErrorCode{transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode,
		transport.UnauthorizedErrorCode, transport.DeniedErrorCode, transport.NameInvalidErrorCode} {
		if strings.Contains(msg, string(code)+":") {
			return true
		}
	}
	return false
}

// createConfig is the syft configuration: the defaults of the syft CLI
// ("syft scan"), so that documents match, with every network lookup off.
// Catalogers are chosen by syft for the source type ("image" catalogers for
// images, "directory" catalogers for files and directories), as the CLI does.
func createConfig() *syft.CreateSBOMConfig {
	// The CLI records SHA-1 and SHA-256 of the files owned by packages;
	// SPDX package verification codes need the SHA-1.
	files := filecataloging.DefaultConfig()
	files.Hashers = []crypto.Hash{crypto.SHA1, crypto.SHA256}

	pkgs := pkgcataloging.DefaultConfig()
	pkgs.Golang = pkgs.Golang.
		WithSearchRemoteLicenses(false).
		WithSearchLocalModCacheLicenses(false).
		WithSearchLocalVendorLicenses(false)
	pkgs.JavaScript = pkgs.JavaScript.WithSearchRemoteLicenses(false)
	pkgs.Python = pkgs.Python.WithSearchRemoteLicenses(false)
	pkgs.JavaArchive = pkgs.JavaArchive.WithUseNetwork(false).WithUseMavenLocalRepository(false)
	pkgs.Cpp = pkgs.Cpp.WithVcpkgAllowGitClone(false)

	return syft.DefaultCreateSBOMConfig().
		WithTool("syft", syftVersion()).
		WithUnknownsConfig(cataloging.DefaultUnknownsConfig()).
		WithFilesConfig(files).
		WithPackagesConfig(pkgs)
}

// licenseScanner holds syft's license scanner, built once per process:
// building it takes a few hundred milliseconds of CPU, which CreateSBOM
// would spend again for every subject.
var licenseScanner = sync.OnceValues(func() (context.Context, error) {
	return syft.SetContextLicenseScanner(context.Background(), createConfig().Licenses)
})

// WarmUp builds the license scanner now, so that a caller can overlap its
// cost with other work: about 1.5 s of CPU (licensecheck compiles its
// license patterns), whatever the subject, which is most of what an SBOM of
// a recorded file costs. The pipeline builds it during the build's pass.
func WarmUp() { _, _ = licenseScanner() }

// scannerContext is ctx that also carries the process's license scanner.
type scannerContext struct {
	context.Context
	scanner context.Context
}

func (c scannerContext) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.scanner.Value(key)
}

// withLicenseScanner returns ctx carrying the process's license scanner, or
// ctx itself when the scanner cannot be built (CreateSBOM then builds its
// own, and reports the error).
func withLicenseScanner(ctx context.Context) context.Context {
	sc, err := licenseScanner()
	if err != nil {
		return ctx
	}
	return scannerContext{Context: ctx, scanner: sc}
}

// errNoDigest is returned when a source does not carry the digest it must.
var errNoDigest = errors.New("no digest")

func imageManifestDigest(desc source.Description) (string, error) {
	switch m := desc.Metadata.(type) {
	case source.ImageMetadata:
		return m.ManifestDigest, nil
	case *source.ImageMetadata:
		return m.ManifestDigest, nil
	}
	return "", fmt.Errorf("source is %T, not an image: %w", desc.Metadata, errNoDigest)
}

func fileSHA256(desc source.Description) (string, error) {
	var m source.FileMetadata
	switch v := desc.Metadata.(type) {
	case source.FileMetadata:
		m = v
	case *source.FileMetadata:
		m = *v
	default:
		return "", fmt.Errorf("source is %T, not a file: %w", desc.Metadata, errNoDigest)
	}
	for _, d := range m.Digests {
		if d.Algorithm == "sha256" {
			return d.Value, nil
		}
	}
	return "", fmt.Errorf("file source of %q has no sha256 digest: %w", m.Path, errNoDigest)
}

// syftModuleVersion is the syft version go.mod requires (a test checks it).
// It names the tool in documents when the binary carries no module
// information, as in test binaries.
const syftModuleVersion = "v1.57.1"

// syftVersion is the version of the syft module linked in.
func syftVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/anchore/syft" && d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return syftModuleVersion
}
