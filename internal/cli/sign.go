package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/sign"
)

// signCommand is the sign stage: options → sign.Run → outputs and summary.
type signCommand struct {
	net   netFlags
	o     sign.Options
	creds push.Credentials
}

func (c *signCommand) Name() string { return "sign" }
func (c *signCommand) Short() string {
	return "Sign a file, every artifact of a build manifest, or a registry image with a cosign key, a KMS key, keyless Sigstore or GPG."
}

func (c *signCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *signCommand) stageInputs() []input.Input {
	o := &c.o
	ins := []input.Input{
		input.String(&o.Subject, input.Spec{Name: "subject",
			Description: "A file to sign (relative to the workspace); its Sigstore bundle goes to the bundle path and a GPG signature to SUBJECT.asc."}),
		input.String(&o.Image, input.Spec{Name: "image",
			Description: "A registry image to sign (registry/repo:tag or @sha256:…); the signature is stored in the registry as cosign stores it (sha256-HEX.sig tag and an OCI 1.1 referrer bundle)."}),
		input.String(&o.Manifest, input.Spec{Name: "manifest",
			Description: "A build manifest: every file artifact it lists is signed by its recorded digest (sizes are checked) and the signatures are added to it as signature records."}),
		input.String(&o.Bundle, input.Spec{Name: "bundle",
			Description: "Where to write the subject's Sigstore bundle; by default SUBJECT.sigstore.json."}),
	}
	ins = append(ins, signerInputs(&o.Sigstore)...)
	ins = append(ins,
		input.String(&o.GPGKey, input.Spec{Name: "gpg-key", Secret: true, Env: "GPG_PRIVATE_KEY",
			Description: "An armored OpenPGP secret key (gpg --armor --export-secret-keys) to write a detached armored signature SUBJECT.asc."}),
		input.String(&o.GPGPassphrase, input.Spec{Name: "gpg-passphrase", Secret: true, Env: "GPG_PASSPHRASE",
			Description: "The passphrase of the GPG key."}),
	)
	return append(ins, registryInputs(&c.creds)...)
}

func (c *signCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "digest", Description: "SHA-256 of the signed subject or image, as sha256:HEX (the first artifact's with a manifest)."},
		{Name: "bundle", Description: "Path of the subject's Sigstore bundle (the first artifact's with a manifest)."},
		{Name: "gpg-signature", Description: "Path of the subject's armored GPG signature, when a GPG key signed."},
		{Name: "image", Description: "The signed image pinned by digest, registry/repo@sha256:HEX."},
		{Name: "signatures", Description: "Every signature file written, one path per line."},
	}
}

func (c *signCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("subject", c.o.Subject, "manifest", c.o.Manifest, "bundle", c.o.Bundle); err != nil {
		return err
	}
	o := c.o
	o.Dir, o.Getenv, o.HTTP, o.Log, o.Now = rt.Dir, rt.Getenv, rt.HTTP, rt.Log, rt.Now
	o.Registry, o.Net = rt.registry(), rt.Net
	maskKeyEnv(rt, o.Sigstore)
	kc, err := registryKeychain(rt, c.creds, o.Image)
	if err != nil {
		return err
	}
	o.Keychain = kc
	target := signTarget(o.Subject, o.Image, o.Manifest)
	var res *sign.Result
	err = rt.Group("slipway sign: signing "+target, func() error {
		var err error
		res, err = sign.Run(ctx, o)
		return err
	})
	if err != nil {
		return err
	}
	outs := map[string]string{}
	var sigs []string
	sum := action.Summary{Title: "Signatures", Notes: []string{"Signed by " + res.Identity + "."}}
	for i, f := range res.Files {
		if i == 0 {
			outs["digest"], outs["bundle"], outs["gpg-signature"] = f.Digest.String(), f.Bundle(), f.GPGSignature()
		}
		sum.Rows = append(sum.Rows, action.Row{Name: f.Name, Role: "artifact", Digest: f.Digest.String(), Size: f.Size})
		for _, r := range f.Records {
			sigs = append(sigs, r.Path)
			sum.Rows = append(sum.Rows, action.Row{Name: r.Path, Role: "signature", Digest: r.Digest.String(), Size: r.Size})
		}
	}
	if img := res.Image; img != nil {
		outs["digest"], outs["image"] = img.Digest.String(), img.Ref
		sigs = append(sigs, img.SignatureTag, img.Referrer)
		sum.Rows = append(sum.Rows, action.Row{Name: img.Ref, Role: "image", Digest: img.Digest.String(), Size: -1})
		sum.Notes = append(sum.Notes, fmt.Sprintf("Signature stored at %s and as an OCI referrer (%s).", img.SignatureTag, img.Referrer))
	}
	if o.Manifest != "" {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d signature records added to %s.", len(sigs), o.Manifest))
	}
	outs["signatures"] = strings.Join(sigs, "\n")
	for _, out := range c.Outputs() {
		if v := outs[out.Name]; v != "" {
			if err := rt.Output(out.Name, v); err != nil {
				return err
			}
		}
	}
	return rt.Report.Summary(sum)
}

func signTarget(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
