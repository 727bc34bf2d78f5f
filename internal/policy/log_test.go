package policy_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

func TestLogSection(t *testing.T) {
	t.Parallel()
	_, pub := policytest.NewKeypair(t)
	key := "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n"
	_, vkey, err := note.GenerateKey(rand.Reader, "slipway.test/log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policytest.WriteFile(t, dir, "keys/log.pub", []byte(vkey+"\n"))
	policytest.WriteFile(t, dir, "keys/other.txt", []byte("hello\n"))
	for _, tc := range []struct {
		name, log string
		mode      policy.ReceiptMode
		want      string // error substring; "" for none
	}{
		{name: "no section", log: "", mode: policy.ReceiptsOff},
		{name: "inline key, default optional", log: "log:\n  verifierKey: " + vkey + "\n", mode: policy.ReceiptsOptional},
		{name: "key file, required", log: "log:\n  verifierKey: keys/log.pub\n  receipts: required\n", mode: policy.ReceiptsRequired},
		{name: "off without key", log: "log:\n  receipts: off\n", mode: policy.ReceiptsOff},
		{name: "required without key", log: "log:\n  receipts: required\n", want: `field "log.verifierKey": is missing`},
		{name: "bad mode", log: "log:\n  verifierKey: keys/log.pub\n  receipts: always\n", want: `field "log.receipts": is "always"; want off, optional or required`},
		{name: "missing file", log: "log:\n  verifierKey: keys/nope.pub\n", want: `field "log.verifierKey": is neither a note verifier key nor a readable file`},
		{name: "file holds no key", log: "log:\n  verifierKey: keys/other.txt\n", want: "reading log verifier key"},
		{name: "unknown field", log: "log:\n  key: x\n", want: `unknown field "key"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := policytest.WriteFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", []byte(header+key+tc.log))
			p, err := policy.Load(path)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Log.Receipts != tc.mode {
				t.Fatalf("receipts = %q, want %q", p.Log.Receipts, tc.mode)
			}
			if tc.log != "" && tc.mode != policy.ReceiptsOff && (p.Log.VerifierKey != vkey || p.Log.Verifier.Name() != "slipway.test/log") {
				t.Fatalf("log = %+v", p.Log)
			}
		})
	}
}
