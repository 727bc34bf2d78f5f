package policy_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

const header = "apiVersion: slipway.dev/v1\nkind: TrustPolicy\n"

func TestParseErrors(t *testing.T) {
	t.Parallel()
	_, pub := policytest.NewKeypair(t)
	key := "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n"
	keyLines := strings.Count(key, "\n")
	_, gpgPub := policytest.NewGPGKey(t, "maintainer")
	gpg := "gpgKeys:\n  - name: maintainer\n    fingerprint: 0000\n    armored: |\n" + indent(string(gpgPub), 6) + "\n"
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{name: "unknown top-level field", doc: header + key + "tlogg: off\n",
			want: []string{"policy.yaml:" + strconv.Itoa(3+keyLines) + ":1: ", `unknown field "tlogg"`, "docs/policy.md"}},
		{name: "unknown nested field", doc: header + "keys:\n  - name: a\n    pth: x.pub\n",
			want: []string{"policy.yaml:5:5: ", `unknown field "pth"`}},
		{name: "wrong type", doc: header + key + "builders: https://x\n", want: []string{"string was used where sequence is expected"}},
		{name: "syntax", doc: header + "keys: [\n", want: []string{"policy.yaml:"}},
		{name: "two documents", doc: header + key + "---\n" + header, want: []string{"2 YAML documents"}},
		{name: "not a mapping", doc: "- a\n", want: []string{"policy.yaml:1:1: ", "mapping"}},
		{name: "wrong apiVersion", doc: "apiVersion: v1\nkind: TrustPolicy\n" + key,
			want: []string{`policy.yaml:1:13: field "apiVersion": is "v1"; write "apiVersion: slipway.dev/v1"`}},
		{name: "missing kind", doc: "apiVersion: slipway.dev/v1\n" + key, want: []string{`field "kind": is ""; write "kind: TrustPolicy"`}},
		{name: "no signer", doc: header, want: []string{"trusts no signer; add at least one entry under keys, identities or gpgKeys"}},
		{name: "key both ways", doc: header + "keys:\n  - name: a\n    path: a.pub\n    pem: x\n", want: []string{`field "keys[0]": has both "path" and "pem"; keep one`}},
		{name: "key neither way", doc: header + "keys:\n  - name: a\n", want: []string{`field "keys[0]": has neither "path"`}},
		{name: "key file missing", doc: header + "keys:\n  - name: a\n    path: nope.pub\n",
			want: []string{`policy.yaml:5:11: field "keys[0].path": reading "nope.pub"`, "relative to the policy file"}},
		{name: "key not pem", doc: header + "keys:\n  - name: a\n    pem: hello\n", want: []string{`field "keys[0].pem": holds no PEM block`}},
		{name: "private key", doc: header + "keys:\n  - name: a\n    pem: |\n      -----BEGIN EC PRIVATE KEY-----\n      AAAA\n      -----END EC PRIVATE KEY-----\n",
			want: []string{`field "keys[0].pem": PEM block 1 of 1 holds a private key (-----BEGIN EC PRIVATE KEY-----)`, "keep the private key secret"}},
		{name: "unnamed key", doc: header + "keys:\n  - pem: |\n" + indent(string(pub), 6) + "\n", want: []string{`field "keys[0].name": is empty`}},
		{name: "duplicate names", doc: header + key + strings.NewReplacer("keys:\n", "gpgKeys:\n", "pem:", "armored:").Replace(key),
			want: []string{`"release" is already the name of keys[0]`}},
		{name: "identity without trusted root", doc: header + "identities:\n  - name: ci\n    issuer: https://token.actions.githubusercontent.com\n    subject: x\n",
			want: []string{`field "identities": keyless identities need a trustedRoot`}},
		{name: "identity without subject", doc: header + key + "identities:\n  - name: ci\n    issuer: https://i\n",
			want: []string{`field "identities[0]": needs "subject" or "subjectRegExp"`}},
		{name: "identity both issuers", doc: header + key + "identities:\n  - name: ci\n    issuer: https://i\n    issuerRegExp: x\n    subject: s\n",
			want: []string{`has both "issuer" and "issuerRegExp"`}},
		{name: "bad subject regexp", doc: header + key + "identities:\n  - name: ci\n    issuer: https://i\n    subjectRegExp: \"(\"\n",
			want: []string{`field "identities[0].subjectRegExp": "(" is not a valid regular expression`}},
		{name: "gpg fingerprint mismatch", doc: header + gpg, want: []string{`field "gpgKeys[0].fingerprint": "0" is not a key fingerprint; write its 40 (or 64) hexadecimal digits, quoted`}},
		{name: "gpg fingerprint other key", doc: strings.Replace(header+gpg, "0000", `"`+strings.Repeat("AB", 20)+`"`, 1), want: []string{`field "gpgKeys[0].fingerprint": "ABAB`, "matches no key"}},
		{name: "gpg not armored", doc: header + "gpgKeys:\n  - name: m\n    armored: nope\n", want: []string{"is not an armored OpenPGP public key"}},
		{name: "builder empty", doc: header + key + "builders:\n  - id: \"\"\n", want: []string{`field "builders[0]": is empty`}},
		{name: "builder both", doc: header + key + "builders:\n  - id: a\n    idRegExp: b\n", want: []string{`field "builders[0]": has both "id" and "idRegExp"`}},
		{name: "builder unknown field", doc: header + key + "builders:\n  - prefix: a\n", want: []string{`unknown field "prefix"`}},
		{name: "source not a URI", doc: header + key + "sourceRepositories:\n  - github.com/o/r\n",
			want: []string{`field "sourceRepositories[0]": "github.com/o/r" is not an https, http, ssh or git URL; write it like "git+https://github.com/owner/repo"`}},
		{name: "predicate short name", doc: header + key + "requiredPredicateTypes:\n  - slsaprovenance1\n",
			want: []string{`field "requiredPredicateTypes[0]": "slsaprovenance1" is a cosign short name; write the predicate type URI "https://slsa.dev/provenance/v1"`}},
		{name: "predicate not URI", doc: header + key + "allowedPredicateTypes:\n  - sbom\n", want: []string{`"sbom" is not a predicate type URI`}},
		{name: "bad maxAge", doc: header + key + "maxAge: 3 days\n", want: []string{`field "maxAge": "3 days" is not a duration`}},
		{name: "tlog without root", doc: header + key + "tlog: required\n", want: []string{`field "tlog": is "required" but the policy has no trustedRoot`}},
		{name: "bad tlog", doc: header + key + "tlog: always\n", want: []string{`field "tlog": is "always"; want off, optional or required`}},
		{name: "trusted root missing", doc: header + key + "trustedRoot: nope.json\n", want: []string{`field "trustedRoot": reading "nope.json"`}},
		{name: "threshold range", doc: header + key + "thresholds:\n  tlogEntries: 0\n", want: []string{`field "thresholds.tlogEntries": is 0; want a number from 1 to 32`}},
		{name: "tests unknown field", doc: header + key + "tests:\n  required: true\n  reslt: PASSED\n",
			want: []string{"policy.yaml:" + strconv.Itoa(5+keyLines) + ":3: ", `unknown field "reslt"`, "docs/policy.md"}},
		{name: "tests result failed", doc: header + key + "tests:\n  result: FAILED\n",
			want: []string{"policy.yaml:" + strconv.Itoa(4+keyLines) + ":11: ", `field "tests.result": is "FAILED", which would accept failed tests; write PASSED`}},
		{name: "tests result bad", doc: header + key + "tests: {result: OK}\n", want: []string{`field "tests.result": is "OK"; write PASSED`}},
		{name: "tests required not bool", doc: header + key + "tests: {required: maybe}\n", want: []string{"policy.yaml:" + strconv.Itoa(3+keyLines) + ":"}},
		{name: "vulnerabilities unknown field", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  maxSeverty: low\n",
			want: []string{"policy.yaml:" + strconv.Itoa(5+keyLines) + ":3: ", `unknown field "maxSeverty"`}},
		{name: "vulnerabilities no maxSeverity", doc: header + key + "vulnerabilities: {required: true}\n",
			want: []string{`field "vulnerabilities.maxSeverity": is missing; write the highest severity`}},
		{name: "vulnerabilities bad severity", doc: header + key + "vulnerabilities:\n  maxSeverity: severe\n",
			want: []string{"policy.yaml:" + strconv.Itoa(4+keyLines) + ":16: ", `field "vulnerabilities.maxSeverity": is "severe"; write one of none, negligible, low, medium, high, critical`}},
		{name: "vulnerabilities bad maxAge", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  maxAge: a week\n",
			want: []string{"policy.yaml:" + strconv.Itoa(5+keyLines) + ":11: ", `field "vulnerabilities.maxAge": "a week" is not a duration; write it like "30d"`}},
		{name: "ignore without reason", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - id: CVE-2024-1234\n      expires: 2027-01-31\n",
			want: []string{"policy.yaml:" + strconv.Itoa(6+keyLines) + ":", `field "vulnerabilities.ignore[0].reason": is missing; say why the finding is accepted`}},
		{name: "ignore without expires", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - id: CVE-2024-1234\n      reason: not reachable\n",
			want: []string{`field "vulnerabilities.ignore[0].expires": is missing; give the date the ignore stops applying, like "2027-01-31"`}},
		{name: "ignore bad date", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {id: CVE-2024-1234, reason: r, expires: 31/01/2027}\n",
			want: []string{`field "vulnerabilities.ignore[0].expires": "31/01/2027" is not a date; write it like "2027-01-31"`}},
		{name: "ignore impossible date", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {id: CVE-2024-1234, reason: r, expires: 2027-02-30}\n",
			want: []string{`"2027-02-30" is not a date`}},
		{name: "ignore without id", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {reason: r, expires: 2027-01-31}\n",
			want: []string{`field "vulnerabilities.ignore[0].id": is missing`}},
		{name: "ignore bad id", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {id: \"CVE 1\", reason: r, expires: 2027-01-31}\n",
			want: []string{`field "vulnerabilities.ignore[0].id": "CVE 1" is not a vulnerability id`}},
		{name: "ignore twice", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2027-01-31}\n    - {id: cve-1, reason: r, expires: 2027-01-31}\n",
			want: []string{`field "vulnerabilities.ignore[1].id": "cve-1" is already ignored by vulnerabilities.ignore[0]`}},
		{name: "ignore unknown field", doc: header + key + "vulnerabilities:\n  maxSeverity: high\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2027-01-31, until: x}\n",
			want: []string{`unknown field "until"`}},
		{name: "alias", doc: header + key + "a: &x [1]\nb: *x\n", want: []string{"YAML anchors and aliases are not allowed"}},
		{name: "every problem at once", doc: "apiVersion: x\nkind: y\nmaxAge: z\n",
			want: []string{`"apiVersion"`, `"kind"`, `"maxAge"`, "trusts no signer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Parse([]byte(tc.doc), policy.Options{Name: "policy.yaml", Dir: t.TempDir()})
			if err == nil {
				t.Fatalf("Parse() succeeded; want an error containing %q", tc.want)
			}
			var pe *policy.Error
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not a *policy.Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() error =\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// FuzzParse feeds the parser arbitrary documents: it must return a policy
// or an *Error, never panic, and never read outside its directory.
func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "keys:\n  - name: a\n    pem: x\n"))
	f.Add([]byte(header + "builders:\n  - https://x\n  - idRegExp: \"a.*\"\ntlog: off\nmaxAge: 30d\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("{"))
	f.Add([]byte(header + "thresholds: {tlogEntries: 99}\nidentities: [{name: a, issuer: b, subjectRegExp: '('}]\n"))
	f.Add([]byte(header + "uploaders:\n  - name: u\n    oidc: {issuer: https://token.actions.githubusercontent.com, repositoryID: 0x10, jobWorkflowRefRegExp: 'a.*'}\n    repositories: [https://github.com/o/r]\n  - {name: t, token: t, repositories: []}\n"))
	f.Add([]byte(header + "keys: [{name: a, pem: x}]\ntests: {required: true, result: WARNED}\nvulnerabilities: {required: true, maxSeverity: high, maxAge: 7d, ignore: [{id: CVE-1, reason: r, expires: 2027-01-31}]}\n"))
	f.Add([]byte(header + "uploaders: [{name: u, token: ci, oidc: {}, repositories: ['git+https://github.com/o/r@refs/tags/v1']}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(string) ([]byte, error) { return nil, errors.New("no files in the fuzzer") }
		p, err := policy.Parse(data, policy.Options{Name: "fuzz.yaml", ReadFile: read})
		if err == nil {
			if p == nil || len(p.Keys)+len(p.Identities)+len(p.GPGKeys) == 0 {
				t.Fatalf("Parse() accepted a policy without signers: %q", data)
			}
			for _, u := range p.Uploaders {
				if (u.Token == "") == (u.OIDC == nil) || len(u.Repositories) == 0 || u.Name == "" {
					t.Fatalf("Parse() accepted the uploader rule %+v: %q", u, data)
				}
				if o := u.OIDC; o != nil && (o.Issuer == "" || o.RepositoryID == "" && o.RepositoryOwnerID == "" ||
					strings.Trim(o.RepositoryID+o.RepositoryOwnerID, "0123456789") != "") {
					t.Fatalf("Parse() accepted the OIDC rule %+v: %q", o, data)
				}
			}
			return
		}
		for _, e := range unjoin(err) {
			var pe *policy.Error
			if !errors.As(e, &pe) {
				t.Fatalf("error %T %v is not a *policy.Error", e, e)
			}
		}
	})
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
