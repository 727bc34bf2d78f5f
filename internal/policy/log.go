package policy

import (
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// ReceiptMode says whether artifacts must carry receipts of Slipway's
// transparency log (the control plane's, not Sigstore's Rekor: see Tlog).
type ReceiptMode string

// The receipt modes.
const (
	// ReceiptsOff ignores receipts. The default without a log section.
	ReceiptsOff ReceiptMode = "off"
	// ReceiptsOptional checks every receipt a manifest lists and accepts
	// artifacts with none. The default with a log section.
	ReceiptsOptional ReceiptMode = "optional"
	// ReceiptsRequired fails an artifact without a receipt that verifies.
	ReceiptsRequired ReceiptMode = "required"
)

// Log is the control-plane transparency log a policy trusts.
type Log struct {
	// VerifierKey is the log's note verifier key ("origin+hash+key"); empty
	// when the policy names no log.
	VerifierKey string
	// Verifier checks the log's checkpoints; nil when the policy names no log.
	Verifier note.Verifier
	// Receipts says whether receipts are required, checked or ignored.
	Receipts ReceiptMode
}

// logDoc is the "log" section as written.
type logDoc struct {
	VerifierKey string `yaml:"verifierKey"`
	Receipts    string `yaml:"receipts"`
}

// log compiles the "log" section: verifierKey is the key itself or a file
// (relative to the policy) holding it.
func (c *compiler) log(p *Policy, d *logDoc) {
	p.Log = Log{Receipts: ReceiptsOff}
	if d == nil {
		return
	}
	switch mode := ReceiptMode(d.Receipts); mode {
	case "":
		p.Log.Receipts = ReceiptsOptional
	case ReceiptsOff, ReceiptsOptional, ReceiptsRequired:
		p.Log.Receipts = mode
	default:
		c.errorf("log.receipts", "is %q; want off, optional or required", d.Receipts)
	}
	key := strings.TrimSpace(d.VerifierKey)
	if key == "" {
		if p.Log.Receipts != ReceiptsOff {
			c.errorf("log.verifierKey", "is missing; give the log's verifier key (GET /api/v1/log/key of the server, or DATA/log.pub) inline or as a file relative to the policy, or set \"receipts: off\"")
		}
		return
	}
	if _, err := note.NewVerifier(key); err != nil {
		// Not a key: a file holding one.
		b, err := c.opts.ReadFile(c.path(key))
		if err != nil {
			c.errorf("log.verifierKey", "is neither a note verifier key nor a readable file: %v; give the key (a line like \"slipway.example/log+1234abcd+AQ...\") or fix the path (relative to the policy file)", err)
			return
		}
		key = strings.TrimSpace(string(b))
	}
	v, err := receipt.NewVerifier(key)
	if err != nil {
		c.errorf("log.verifierKey", "%v", err)
		return
	}
	p.Log.VerifierKey, p.Log.Verifier = key, v
}
