package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestVerifySignerFlagsMatchPolicy runs slipway verify with cosign's
// flags and with the equivalent policy file, and checks that both give the
// same report, check by check, passing and failing alike.
func TestVerifySignerFlagsMatchPolicy(t *testing.T) {
	t.Parallel()
	dir := signedWorkspace(t) // app.bin signed with a cosign key, no log; cosign.pub
	other := sigstoretest.NewCosignKey(t, "pw")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("other.pub", string(other.PublicPEM))
	entity, gpgPub := policytest.NewGPGKey(t, "maintainer")
	write("maintainer.asc", string(gpgPub))
	f, err := os.Open(filepath.Join(dir, "app.bin"))
	if err != nil {
		t.Fatal(err)
	}
	write("app.bin.asc", string(policytest.GPGSign(t, entity, f)))
	f.Close()
	write("trusted_root.json", string(sigstoretest.New(t).TrustedRootJSON(t)))

	const head = "apiVersion: slipway.dev/v1\nkind: TrustPolicy\n"
	tests := []struct {
		name    string
		flags   []string
		policy  string
		bundles string
		code    int
	}{
		{"key", []string{"--key", "cosign.pub", "--insecure-ignore-tlog"},
			"keys: [{name: key, path: cosign.pub}]\n", "app.bin.sigstore.json", 0},
		{"another key", []string{"--key", "other.pub", "--insecure-ignore-tlog"},
			"keys: [{name: key, path: other.pub}]\n", "app.bin.sigstore.json", 1},
		{"key, log required", []string{"--key", "cosign.pub", "--trusted-root", "trusted_root.json"},
			"keys: [{name: key, path: cosign.pub}]\ntrustedRoot: trusted_root.json\ntlog: required\n", "app.bin.sigstore.json", 1},
		{"gpg key", []string{"--gpg-key", "maintainer.asc"},
			"gpgKeys: [{name: gpg-key, path: maintainer.asc}]\n", "app.bin.asc", 0},
		{"gpg key, bundle by a key it does not trust", []string{"--gpg-key", "maintainer.asc"},
			"gpgKeys: [{name: gpg-key, path: maintainer.asc}]\n", "app.bin.asc,app.bin.sigstore.json", 1},
		{"key and gpg key", []string{"--gpg-key", "maintainer.asc", "--key", "cosign.pub", "--insecure-ignore-tlog"},
			"keys: [{name: key, path: cosign.pub}]\ngpgKeys: [{name: gpg-key, path: maintainer.asc}]\n", "app.bin.asc,app.bin.sigstore.json", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			policyFile := "policy-" + string(rune('a'+i)) + ".yaml"
			write(policyFile, head+tc.policy)
			common := []string{"verify", "--subject", "app.bin", "--bundles", tc.bundles, "--json"}
			code1, out1, err1 := runCLI(t, dir, nil, append(common, tc.flags...)...)
			code2, out2, err2 := runCLI(t, dir, nil, append(common, "--policy", policyFile)...)
			if code1 != tc.code || code2 != tc.code {
				t.Fatalf("exit %d with flags, %d with the policy; want %d\n%s\n%s\n%s\n%s", code1, code2, tc.code, out1, err1, out2, err2)
			}
			r1, r2 := decodeReport(t, out1), decodeReport(t, out2)
			if !strings.HasPrefix(r1.Policy, "command-line policy (--") || r2.Policy == "" {
				t.Errorf("policies are named %q and %q", r1.Policy, r2.Policy)
			}
			r1.Policy, r2.Policy = "", ""
			if !reflect.DeepEqual(r1, r2) {
				t.Errorf("with flags:\n%s\nwith the policy:\n%s", out1, out2)
			}
		})
	}
}

type jsonReport struct {
	Verified bool
	Policy   string
	Subjects []struct {
		Name, Digest string
		Verified     bool
		Checks       []struct{ Check, Status, Bundle, Signer, Message string }
	}
}

func decodeReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the output is not a JSON report: %v\n%s", err, out)
	}
	return r
}

func TestVerifySignerFlagErrors(t *testing.T) {
	t.Parallel()
	dir := signedWorkspace(t)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"policy and key", []string{"--policy", "policy.yaml", "--key", "cosign.pub"}, `policy "policy.yaml" is given with signer inputs`},
		{"neither", nil, "no trust policy: give policy"},
		{"key without a log decision", []string{"--key", "cosign.pub"}, "--trusted-root: is missing: the transparency log is checked"},
		{"identity without issuer", []string{"--certificate-identity", "a@example.com", "--trusted-root", "x.json"}, "--certificate-oidc-issuer: is missing"},
		{"issuer alone", []string{"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}, "--certificate-identity: is missing"},
		{"private key as key", []string{"--key", "app.bin.sigstore.json", "--insecure-ignore-tlog"}, "--key: holds no PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, dir, nil, append([]string{"verify", "--subject", "app.bin"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q\n%s", code, stderr, tc.stderr, stdout)
			}
		})
	}
}

// TestPipelineDoesNotForwardSignerInputs checks that the pipeline's key (a
// signing key) never reaches verify's key (a public key), and that verify's
// signer inputs are not pipeline inputs.
func TestPipelineDoesNotForwardSignerInputs(t *testing.T) {
	t.Parallel()
	p := &pipelineCommand{}
	var key string
	for _, in := range p.Inputs() {
		switch in.Name {
		case "certificate-identity", "trusted-root", "insecure-ignore-tlog", "certificate-oidc-issuer":
			t.Errorf("the pipeline offers verify's %q input", in.Name)
		case "key":
			key = in.Description
		}
	}
	if !strings.Contains(key, "private key") {
		t.Errorf("the pipeline's key input is %q, want the signing key's", key)
	}
}
