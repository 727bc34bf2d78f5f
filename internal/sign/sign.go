package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gpgsign"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/signing"
)

// BundleExtension is appended to a file's name for its Sigstore bundle.
const BundleExtension = ".sigstore.json"

// Result is what a run signed and wrote.
type Result struct {
	// Files are the signed files, in order.
	Files []File
	// Image is the signed image, when Options.Image was set.
	Image *Image
	// Identity names the signer: a certificate identity, a key hint or a
	// GPG fingerprint.
	Identity string
}

// File is one signed file and the signatures written for it.
type File struct {
	// Name is the subject name (workspace-relative, slash-separated).
	Name   string
	Path   string
	Digest digest.SHA256
	Size   int64
	// Records are the signature records written for the file: a Sigstore
	// bundle and/or a GPG signature.
	Records []artifact.Record
}

// Bundle returns the path of the file's Sigstore bundle, or "".
func (f File) Bundle() string { return f.recordPath(signing.BundleMediaType) }

// GPGSignature returns the path of the file's GPG signature, or "".
func (f File) GPGSignature() string { return f.recordPath(gpgsign.MediaType) }

func (f File) recordPath(mediaType string) string {
	for _, r := range f.Records {
		if r.MediaType == mediaType {
			return r.Path
		}
	}
	return ""
}

// Run signs what opts names.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	gs, err := opts.gpgSigner()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pending := opts.startSigstore(ctx, cancel)
	res := &Result{}
	switch {
	case opts.Image != "":
		sg, err := pending.Wait()
		if err != nil {
			return nil, err
		}
		if res.Image, err = signImage(ctx, &opts, sg); err != nil {
			return nil, err
		}
	case opts.Manifest != "":
		if res.Files, err = signManifest(ctx, &opts, pending, gs); err != nil {
			return nil, err
		}
	default:
		path := opts.abs(opts.Subject)
		bundlePath := path + BundleExtension
		if opts.Bundle != "" {
			bundlePath = opts.abs(opts.Bundle)
		}
		for _, p := range []string{path, bundlePath} {
			if _, err := opts.inside(p); err != nil {
				return nil, err
			}
		}
		f, err := signFile(ctx, &opts, pending, gs, target{name: opts.rel(path), path: path, bundle: bundlePath})
		if err != nil {
			return nil, err
		}
		res.Files = []File{f}
	}
	sg, err := pending.Wait()
	if err != nil {
		return nil, err
	}
	switch {
	case sg != nil:
		res.Identity = sg.Identity()
	case gs != nil:
		res.Identity = "gpg " + gs.Fingerprint()
	}
	if sg != nil && gs != nil {
		res.Identity += ", gpg " + gs.Fingerprint()
	}
	return res, nil
}

// target is one file to sign. With a known digest (from a manifest) the
// file is not read unless a GPG signature needs its content.
type target struct {
	name, path, bundle string
	known              *artifact.Record
}

// signFile signs one file, reading it at most once.
func signFile(ctx context.Context, opts *Options, pending *signing.Pending, gs *gpgsign.Signer, t target) (File, error) {
	f := File{Name: t.name, Path: t.path}
	var state hash.Hash
	var detached *gpgsign.Detached
	if t.known != nil && gs == nil {
		// Trust the manifest's digest: it was computed in the build's one
		// pass. A cheap size check catches a replaced or truncated file.
		fi, err := os.Stat(t.path)
		if err != nil {
			return f, missing(t.path, err)
		}
		if fi.Size() != t.known.Size {
			return f, changed(t, fmt.Sprintf("its size is %d bytes, the manifest says %d", fi.Size(), t.known.Size))
		}
		f.Digest, f.Size = t.known.Digest, t.known.Size
	} else {
		var err error
		if f.Digest, f.Size, state, detached, err = readOnce(ctx, t.path, gs); err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return f, cause // the signer failed while the file was read
			}
			return f, err
		}
		if t.known != nil && (f.Digest != t.known.Digest || f.Size != t.known.Size) {
			return f, changed(t, fmt.Sprintf("its SHA-256 is %s (%d bytes), the manifest says %s (%d bytes)", f.Digest, f.Size, t.known.Digest, t.known.Size))
		}
	}
	opts.Log.Debug("signing", "file", t.name, "digest", f.Digest.String(), "size", f.Size)

	sg, err := pending.Wait()
	if err != nil {
		return f, err
	}
	if sg != nil {
		b, err := sg.SignDigest(ctx, f.Digest)
		if err != nil {
			return f, fmt.Errorf("signing %q: %w", t.name, err)
		}
		js, err := signing.MarshalBundle(b)
		if err != nil {
			return f, exitcode.Infra(err)
		}
		js = append(js, '\n')
		rec, err := writeRecord(opts, t.bundle, js, signing.BundleMediaType, f.Digest)
		if err != nil {
			return f, err
		}
		f.Records = append(f.Records, rec)
	}
	if gs != nil {
		var sig bytes.Buffer
		var err error
		if detached != nil {
			err = detached.Finish(&sig)
		} else {
			err = gs.SignSHA256(&sig, state)
		}
		if err != nil {
			return f, exitcode.Infra(fmt.Errorf("GPG-signing %q: %w", t.name, err))
		}
		rec, err := writeRecord(opts, t.path+gpgsign.Extension, sig.Bytes(), gpgsign.MediaType, f.Digest)
		if err != nil {
			return f, err
		}
		f.Records = append(f.Records, rec)
	}
	return f, nil
}

// readOnce reads the file once, computing its SHA-256 and, with a GPG
// key, its OpenPGP data hash: the SHA-256 state itself when the key signs
// SHA-256, else a second hash fed from the same buffer.
func readOnce(ctx context.Context, path string, gs *gpgsign.Signer) (digest.SHA256, int64, hash.Hash, *gpgsign.Detached, error) {
	file, err := regfile.Open(path)
	if err != nil {
		return digest.SHA256{}, 0, nil, nil, missing(path, err)
	}
	defer file.Close()
	h := sha256.New()
	var w io.Writer = h
	var detached *gpgsign.Detached
	if gs != nil && !gs.SharesSHA256() {
		if detached, err = gs.Start(); err != nil {
			return digest.SHA256{}, 0, nil, nil, exitcode.Infra(err)
		}
		w = io.MultiWriter(h, detached)
	}
	buf := make([]byte, digest.BufferSize)
	n, err := io.CopyBuffer(w, digest.ContextReader(ctx, file), buf)
	if err != nil {
		return digest.SHA256{}, 0, nil, nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading %q: %w", path, err)), path)
	}
	var d digest.SHA256
	h.Sum(d[:0])
	return d, n, h, detached, nil
}

// writeRecord writes a signature file atomically and returns its record.
func writeRecord(opts *Options, path string, content []byte, mediaType string, describes digest.SHA256) (artifact.Record, error) {
	if _, err := opts.inside(path); err != nil {
		return artifact.Record{}, err
	}
	if err := atomicfile.WriteFile(path, content, 0o644); err != nil {
		return artifact.Record{}, exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing %q: %w", path, err)), path)
	}
	rel := opts.rel(path)
	return artifact.Record{
		Name:      rel,
		Path:      rel,
		Digest:    digest.SHA256(sha256.Sum256(content)),
		Size:      int64(len(content)),
		MediaType: mediaType,
		Role:      artifact.RoleSignature,
		Describes: describes,
	}, nil
}

func missing(path string, err error) error {
	var nr *regfile.NotRegularError
	if errors.As(err, &nr) {
		return exitcode.WithFile(exitcode.BadInput(fmt.Errorf("the file to sign: %w", err)), path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return exitcode.WithFile(exitcode.BadInputf("the file to sign %q does not exist; check subject or the manifest's paths (they are relative to the workspace)", path), path)
	}
	return exitcode.WithFile(exitcode.Infra(fmt.Errorf("opening %q: %w", path, err)), path)
}

func changed(t target, what string) error {
	return exitcode.WithFile(exitcode.Failuref("%q changed since the manifest was written: %s; rebuild it (slipway build) before signing", t.name, what), t.path)
}
