package policy

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// compiler validates a document and loads what it names, collecting every
// problem with its position.
type compiler struct {
	opts  Options
	file  *ast.File
	errs  []error
	names map[string]string // signer name -> field that defined it
}

func (c *compiler) errorf(field, format string, a ...any) {
	line, col := position(c.file, field)
	c.errs = append(c.errs, &Error{File: c.opts.Name, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, a...)})
}

func (c *compiler) compile(d *document) *Policy {
	p := &Policy{Source: c.opts.Name, Name: d.Name}
	if d.APIVersion != APIVersion {
		c.errorf("apiVersion", "is %q; write \"apiVersion: %s\"", d.APIVersion, APIVersion)
	}
	if d.Kind != Kind {
		c.errorf("kind", "is %q; write \"kind: %s\"", d.Kind, Kind)
	}
	c.names = map[string]string{}
	for i, k := range d.Keys {
		if key, ok := c.key(fmt.Sprintf("keys[%d]", i), k); ok {
			p.Keys = append(p.Keys, key)
		}
	}
	for i, id := range d.Identities {
		if ident, ok := c.identity(fmt.Sprintf("identities[%d]", i), id); ok {
			p.Identities = append(p.Identities, ident)
		}
	}
	for i, g := range d.GPGKeys {
		if key, ok := c.gpgKey(fmt.Sprintf("gpgKeys[%d]", i), g); ok {
			p.GPGKeys = append(p.GPGKeys, key)
		}
	}
	if len(d.Keys)+len(d.Identities)+len(d.GPGKeys) == 0 {
		c.errorf("", "the policy trusts no signer; add at least one entry under keys, identities or gpgKeys")
	}
	for i, b := range d.Builders {
		if rule, ok := c.builder(fmt.Sprintf("builders[%d]", i), b); ok {
			p.Builders = append(p.Builders, rule)
		}
	}
	for i, s := range d.SourceRepositories {
		if repo, ok := c.sourceRepository(fmt.Sprintf("sourceRepositories[%d]", i), s); ok {
			p.SourceRepositories = append(p.SourceRepositories, repo)
		}
	}
	p.RequiredPredicateTypes = c.predicateTypes("requiredPredicateTypes", d.RequiredPredicateTypes)
	p.AllowedPredicateTypes = c.predicateTypes("allowedPredicateTypes", d.AllowedPredicateTypes)
	if d.MaxAge != "" {
		age, err := ParseAge(d.MaxAge)
		if err != nil {
			c.errorf("maxAge", "%v", err)
		}
		p.MaxAge = age
	}
	c.transparency(p, d)
	c.uploaders(p, d.Uploaders)
	c.dispatch(p, d.Dispatch)
	c.log(p, d.Log)
	c.tests(p, d.Tests)
	c.vulnerabilities(p, d.Vulnerabilities)
	return p
}

func (c *compiler) claimName(field, name string) bool {
	if strings.TrimSpace(name) == "" {
		c.errorf(field+".name", "is empty; give every signer a name, used in reports (\"name: release\")")
		return false
	}
	if prev, ok := c.names[name]; ok {
		c.errorf(field+".name", "%q is already the name of %s; signer names must be unique", name, prev)
		return false
	}
	c.names[name] = field
	return true
}

// path resolves a path written in the policy against the policy's directory.
func (c *compiler) path(p string) string {
	if filepath.IsAbs(p) || c.opts.Dir == "" {
		return p
	}
	return filepath.Join(c.opts.Dir, p)
}

// content returns the inline value or the named file's bytes, when exactly
// one of the two is given.
func (c *compiler) content(field, pathField, path, inlineField, inline, what string) ([]byte, bool) {
	switch {
	case path != "" && inline != "":
		c.errorf(field, "has both %q and %q; keep one", pathField, inlineField)
	case path == "" && strings.TrimSpace(inline) == "":
		c.errorf(field, "has neither %q (a file) nor %q (inline); give the %s one way", pathField, inlineField, what)
	case path != "":
		b, err := c.opts.ReadFile(c.path(path))
		if err != nil {
			c.errorf(field+"."+pathField, "reading %q: %v; fix the path (relative to the policy file) or inline the %s with %q", path, err, what, inlineField)
			return nil, false
		}
		return b, true
	default:
		return []byte(inline), true
	}
	return nil, false
}

func (c *compiler) builder(field string, b builderDoc) (Builder, bool) {
	switch {
	case b.ID != "" && b.IDRegExp != "":
		c.errorf(field, "has both \"id\" and \"idRegExp\"; keep one")
	case b.ID != "":
		return Builder{ID: b.ID}, true
	case b.IDRegExp != "":
		re, err := regexp.Compile(anchor(b.IDRegExp))
		if err != nil {
			c.errorf(field+".idRegExp", "%q is not a valid regular expression: %v; use Go (RE2) syntax", b.IDRegExp, err)
			return Builder{}, false
		}
		return Builder{IDRegExp: re}, true
	default:
		c.errorf(field, "is empty; write the exact builder ID, or \"idRegExp: <expression>\"")
	}
	return Builder{}, false
}

func (c *compiler) sourceRepository(field, s string) (string, bool) {
	n, err := ParseRepository(s)
	if err != nil {
		c.errorf(field, "%q %v", s, err)
		return "", false
	}
	return n, true
}

// cosignTypes maps cosign's --type short names to predicate type URIs, for
// hints.
var cosignTypes = map[string]string{
	"slsaprovenance":   "https://slsa.dev/provenance/v0.2",
	"slsaprovenance02": "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1":  SLSAProvenanceV1,
	"spdx":             SPDX,
	"spdxjson":         SPDX,
	"cyclonedx":        CycloneDX,
	"link":             "https://in-toto.io/Link/v1",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
}

func (c *compiler) predicateTypes(field string, in []string) []string {
	var out []string
	for i, t := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		if uri, ok := cosignTypes[strings.ToLower(t)]; ok {
			c.errorf(f, "%q is a cosign short name; write the predicate type URI %q", t, uri)
			continue
		}
		if u, err := url.Parse(t); err != nil || u.Scheme == "" || u.Host == "" {
			c.errorf(f, "%q is not a predicate type URI; write it like %q", t, SLSAProvenanceV1)
			continue
		}
		out = append(out, t)
	}
	return out
}

func (c *compiler) transparency(p *Policy, d *document) {
	if d.TrustedRoot != "" {
		p.TrustedRootPath = c.path(d.TrustedRoot)
		if b, err := c.opts.ReadFile(p.TrustedRootPath); err != nil {
			c.errorf("trustedRoot", "reading %q: %v; fix the path (relative to the policy file) to a Sigstore trusted_root.json", d.TrustedRoot, err)
		} else if tr, err := root.NewTrustedRootFromJSON(b); err != nil {
			c.errorf("trustedRoot", "%q is not a Sigstore trusted root: %v; give a trusted_root.json (media type application/vnd.dev.sigstore.trustedroot+json;version=0.1)", d.TrustedRoot, err)
		} else {
			p.TrustedRoot = tr
		}
	}
	switch TlogMode(d.Tlog) {
	case "", TlogOff:
		p.Tlog = TlogOff
	case TlogOptional, TlogRequired:
		p.Tlog = TlogMode(d.Tlog)
		if d.TrustedRoot == "" {
			c.errorf("tlog", "is %q but the policy has no trustedRoot; add \"trustedRoot: <path to trusted_root.json>\" naming the transparency log's key, or set \"tlog: off\"", d.Tlog)
		} else if p.TrustedRoot != nil && len(p.TrustedRoot.RekorLogs()) == 0 {
			c.errorf("tlog", "is %q but trusted root %q lists no transparency log; add the log (tlogs) to it, or set \"tlog: off\"", d.Tlog, d.TrustedRoot)
		}
	default:
		c.errorf("tlog", "is %q; want off, optional or required", d.Tlog)
	}
	if len(d.Identities) > 0 {
		if d.TrustedRoot == "" {
			c.errorf("identities", "keyless identities need a trustedRoot holding the Fulcio certificate authority; add \"trustedRoot: <path to trusted_root.json>\"")
		} else if p.TrustedRoot != nil && len(p.TrustedRoot.FulcioCertificateAuthorities()) == 0 {
			c.errorf("trustedRoot", "%q lists no certificate authority, which keyless identities need; add the Fulcio CA (certificateAuthorities) to it", d.TrustedRoot)
		}
	}
	p.Thresholds = Thresholds{TlogEntries: 1}
	if t := d.Thresholds; t != nil {
		p.Thresholds.TlogEntries = c.threshold("thresholds.tlogEntries", t.TlogEntries, 1, 1)
		p.Thresholds.ObserverTimestamps = c.threshold("thresholds.observerTimestamps", t.ObserverTimestamps, 0, 0)
		p.Thresholds.SignedCertificateTimestamps = c.threshold("thresholds.signedCertificateTimestamps", t.SignedCertificateTimestamps, 0, 0)
		if p.Thresholds.SignedCertificateTimestamps > 0 && d.TrustedRoot != "" && p.TrustedRoot != nil && len(p.TrustedRoot.CTLogs()) == 0 {
			c.errorf("thresholds.signedCertificateTimestamps", "is %d but trusted root %q lists no certificate transparency log; add it (ctlogs) or set 0", p.Thresholds.SignedCertificateTimestamps, d.TrustedRoot)
		}
		if p.Thresholds.ObserverTimestamps > 0 && d.TrustedRoot == "" {
			c.errorf("thresholds.observerTimestamps", "is %d but the policy has no trustedRoot to verify timestamps with; add \"trustedRoot\" or set 0", p.Thresholds.ObserverTimestamps)
		}
	}
}

// maxThreshold bounds thresholds: sigstore-go accepts at most 32 log
// entries per bundle.
const maxThreshold = 32

func (c *compiler) threshold(field string, v *int, def, min int) int {
	if v == nil {
		return def
	}
	if *v < min || *v > maxThreshold {
		c.errorf(field, "is %d; want a number from %d to %d", *v, min, maxThreshold)
		return def
	}
	return *v
}

// ParseAge parses a maximum age: a Go duration ("720h", "90m") or a whole
// number of days ("30d").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days; write it like \"30d\" or \"720h\"", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration; write it like \"30d\", \"720h\" or \"90m\"", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive; write a positive age like \"30d\", or remove maxAge for no limit", s)
	}
	return d, nil
}
