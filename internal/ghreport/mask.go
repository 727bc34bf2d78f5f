package ghreport

import (
	"sort"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// Masked replaces what stands for a hidden value.
const Masked = "***"

// minSecret is the shortest value masked by value: shorter ones would hide
// ordinary words (the runner masks such values too, but a report whose
// every "a" became *** helps nobody); patterns still catch tokens.
const minSecret = 4

// Masker hides secrets in text before it leaves the machine.
type Masker struct {
	secrets []string
}

// NewMasker masks each of secrets (and each line of a multi-line one, as
// the runner's ::add-mask:: does), then the patterns of tokens, keys and
// credentials whatever their value.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	seen := map[string]bool{}
	for _, s := range secrets {
		for _, v := range append([]string{s}, strings.Split(s, "\n")...) {
			v = strings.TrimSpace(v)
			if len(v) >= minSecret && !seen[v] {
				seen[v] = true
				m.secrets = append(m.secrets, v)
			}
		}
	}
	// The longest first, so that a secret containing another is hidden whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	return m
}

var patterns = []struct {
	re   *lazyregexp.Regexp
	repl string
}{
	// PEM private keys (an excerpt may hold only the start of one).
	{lazyregexp.New(`-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`), "-----BEGIN ${1}PRIVATE KEY----- " + Masked},
	{lazyregexp.New(`-----BEGIN PGP PRIVATE KEY BLOCK-----(?s:.*?)(-----END PGP PRIVATE KEY BLOCK-----|\z)`), "-----BEGIN PGP PRIVATE KEY BLOCK----- " + Masked},
	// GitHub tokens: classic, OAuth, user-to-server, server-to-server, refresh; fine-grained PATs.
	{lazyregexp.New(`\bgh[pousr]_[A-Za-z0-9]{20,}`), Masked},
	{lazyregexp.New(`\bgithub_pat_[A-Za-z0-9_]{20,}`), Masked},
	// Slipway service tokens (internal/token: slw_ID_SECRET).
	{lazyregexp.New(`\bslw_[A-Za-z0-9_-]{8,}`), Masked},
	// JWTs (OIDC ID tokens, SLURM_JWT, Sigstore tokens).
	{lazyregexp.New(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), Masked},
	// Authorization headers and URL credentials.
	{lazyregexp.New(`(?i)\b(authorization:\s*(?:bearer|token|basic)\s+)[^\s"']+`), "${1}" + Masked},
	{lazyregexp.New(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]+@`), "${1}" + Masked + "@"},
	// KEY=value for names that say secret.
	{lazyregexp.New(`(?i)\b([A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSPHRASE|PRIVATE_KEY|API_KEY)[A-Z0-9_]*\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s"']+)`), "${1}" + Masked},
}

// Mask returns s with every secret value and pattern replaced by ***.
func (m *Masker) Mask(s string) string {
	for _, v := range m.secrets {
		s = strings.ReplaceAll(s, v, Masked)
	}
	for _, p := range patterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}
