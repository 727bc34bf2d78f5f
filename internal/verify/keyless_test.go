package verify_test

import (
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// keyless returns bundle options for keyless signing as identity subject,
// with the log and timestamp authority as given.
func keyless(f *fixture, subject string, log sign.Transparency, tsa *sign.TimestampAuthority) sign.BundleOptions {
	o := sign.BundleOptions{CertificateProvider: f.ss.Fulcio(sigstoretest.GitHubIssuer, subject)}
	if log != nil {
		o.TransparencyLogs = []sign.Transparency{log}
	}
	if tsa != nil {
		o.TimestampAuthorities = []*sign.TimestampAuthority{tsa}
	}
	return o
}

func TestKeyless(t *testing.T) {
	t.Parallel()
	type tc struct {
		name     string
		extra    string
		make     func(t *testing.T, f *fixture) []byte
		verified bool
		want     []string
	}
	eph := func(t *testing.T) sign.Keypair { kp, _ := policytest.NewKeypair(t); return kp }
	tests := []tc{
		{
			name: "logged and timestamped", extra: "tlog: required\n", verified: true,
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, f.ss.Rekor(), f.ss.TSA()))
			},
			want: []string{
				`PASS signature  b.sigstore.json: sigstore bundle signed by "` + workflowRef + `" (issuer "https://token.actions.githubusercontent.com", policy identity "release-workflow")`,
				"PASS tlog       b.sigstore.json: 1 transparency log entry verified against the trusted root, integrated at ",
				"PASS timestamp  b.sigstore.json: 1 RFC 3161 timestamp verified against the trusted root",
				"PASS digest     b.sigstore.json: the signed message digest is the subject's sha256:",
			},
		},
		{
			name: "two timestamps required, log and TSA give them", extra: "tlog: required\nthresholds:\n  observerTimestamps: 2\n", verified: true,
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, f.ss.Rekor(), f.ss.TSA()))
			},
			want: []string{"PASS tlog", "PASS timestamp"},
		},
		{
			name: "timestamp only, log off", verified: true,
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, nil, f.ss.TSA()))
			},
			want: []string{"PASS signature  b.sigstore.json", "PASS timestamp  b.sigstore.json"},
		},
		{
			name: "attestation", extra: "tlog: optional\n" + allowBuilders, verified: true,
			make: func(t *testing.T, f *fixture) []byte {
				return f.attest(t, eph(t), keyless(f, workflowRef, f.ss.Rekor(), nil), policy.SLSAProvenanceV1, f.provenance())
			},
			want: []string{`PASS signature  b.sigstore.json: sigstore bundle signed by "` + workflowRef, "PASS builder", "PASS source"},
		},
		{
			name: "another identity",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, "https://github.com/fork/example/.github/workflows/release.yml@refs/heads/main", nil, f.ss.TSA()))
			},
			want: []string{`FAIL signature  b.sigstore.json: is signed by "https://github.com/fork/example/.github/workflows/release.yml@refs/heads/main" (issuer "https://token.actions.githubusercontent.com"), which matches no policy identity (release-workflow)`},
		},
		{
			name: "no observer timestamp",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, nil, nil))
			},
			want: []string{"FAIL timestamp  b.sigstore.json: not enough verified timestamps"},
		},
		{
			name: "logged, but the policy does not use the log",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, f.ss.Rekor(), nil))
			},
			want: []string{"FAIL timestamp  b.sigstore.json:", "whose integrated times count once the policy uses the log (tlog: optional)"},
		},
		{
			// The certificate's ten minutes are long past when the log saw the
			// signature: the certificate had expired.
			name: "certificate expired at the log's integrated time", extra: "tlog: required\n",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, f.ss.RekorAt(f.ss.Now().Add(time.Hour)), nil))
			},
			want: []string{"FAIL signature  b.sigstore.json: the signing certificate was not valid at the transparency log's integrated time"},
		},
		{
			// A certificate whose window lies in the past: the timestamp
			// authority saw the signature after it ended.
			name: "certificate with a past window, timestamped now",
			make: func(t *testing.T, f *fixture) []byte {
				o := keyless(f, workflowRef, nil, f.ss.TSA())
				ca := f.ss.Fulcio(sigstoretest.GitHubIssuer, workflowRef)
				ca.NotBefore = f.ss.Now().Add(-2 * time.Hour)
				o.CertificateProvider = ca
				return f.signBlob(t, eph(t), o)
			},
			want: []string{"FAIL signature  b.sigstore.json: the signing certificate (valid ", ") was not valid at the signing time ", "(RFC 3161 timestamp): it had expired or was not yet valid"},
		},
		{
			name: "certificate not yet valid when logged", extra: "tlog: required\n",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, f.ss.RekorAt(f.ss.Now().Add(-time.Hour)), nil))
			},
			want: []string{"FAIL signature  b.sigstore.json: the signing certificate was not valid at the transparency log's integrated time"},
		},
		{
			name: "certificate of another CA",
			make: func(t *testing.T, f *fixture) []byte {
				other := policytest.NewSigstore(t)
				other.SetNow(f.ss.Now())
				return f.signBlob(t, eph(t), sign.BundleOptions{
					CertificateProvider:  other.Fulcio(sigstoretest.GitHubIssuer, workflowRef),
					TimestampAuthorities: []*sign.TimestampAuthority{f.ss.TSA()},
				})
			},
			want: []string{"FAIL signature  b.sigstore.json: the signing certificate (valid ", `issued by "CN=sigstoretest fulcio,O=sigstoretest") does not chain to the trusted root's certificate authority at the signing time`},
		},
		{
			name: "SCT required, certificate has none", extra: "thresholds:\n  signedCertificateTimestamps: 1\n",
			make: func(t *testing.T, f *fixture) []byte {
				return f.signBlob(t, eph(t), keyless(f, workflowRef, nil, f.ss.TSA()))
			},
			want: []string{"FAIL signature  b.sigstore.json: the signing certificate's SCTs do not verify"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			b := f.write(t, "b.sigstore.json", tc.make(t, f))
			expect(t, f.verify(t, f.policy(t, tc.extra), b), tc.verified, tc.want...)
		})
	}
}

// TestKeylessWithoutIdentities: a keyless bundle against a policy of keys
// only fails with a message saying what to add.
func TestKeylessWithoutIdentities(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	kp, _ := policytest.NewKeypair(t)
	b := f.write(t, "b.sigstore.json", f.signBlob(t, kp, keyless(f, workflowRef, nil, f.ss.TSA())))
	p := f.policy(t, "")
	p.Identities = nil
	expect(t, f.verify(t, p, b), false, `FAIL signature  b.sigstore.json: is signed keylessly (certificate for "`+workflowRef+`"), but the policy lists no identities`)
}
