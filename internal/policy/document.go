package policy

import (
	"strings"

	"github.com/goccy/go-yaml"
)

// document is a trust policy as written: every field of the YAML, before
// validation. Field names are the YAML keys; docs/policy.md describes each.
type document struct {
	APIVersion             string              `yaml:"apiVersion"`
	Kind                   string              `yaml:"kind"`
	Name                   string              `yaml:"name"`
	Keys                   []keyDoc            `yaml:"keys"`
	Identities             []identityDoc       `yaml:"identities"`
	GPGKeys                []gpgKeyDoc         `yaml:"gpgKeys"`
	Builders               []builderDoc        `yaml:"builders"`
	SourceRepositories     []string            `yaml:"sourceRepositories"`
	RequiredPredicateTypes []string            `yaml:"requiredPredicateTypes"`
	AllowedPredicateTypes  []string            `yaml:"allowedPredicateTypes"`
	MaxAge                 string              `yaml:"maxAge"`
	TrustedRoot            string              `yaml:"trustedRoot"`
	Tlog                   string              `yaml:"tlog"`
	Thresholds             *thresholdsDoc      `yaml:"thresholds"`
	Uploaders              []uploaderDoc       `yaml:"uploaders"`
	Dispatch               []dispatchDoc       `yaml:"dispatch"`
	Log                    *logDoc             `yaml:"log"`
	Tests                  *testsDoc           `yaml:"tests"`
	Vulnerabilities        *vulnerabilitiesDoc `yaml:"vulnerabilities"`
}

type keyDoc struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
	PEM  string `yaml:"pem"`
}

type identityDoc struct {
	Name          string `yaml:"name"`
	Issuer        string `yaml:"issuer"`
	IssuerRegExp  string `yaml:"issuerRegExp"`
	Subject       string `yaml:"subject"`
	SubjectRegExp string `yaml:"subjectRegExp"`
}

type gpgKeyDoc struct {
	Name        string `yaml:"name"`
	Path        string `yaml:"path"`
	Armored     string `yaml:"armored"`
	Fingerprint string `yaml:"fingerprint"`
}

type builderFields struct {
	ID       string `yaml:"id"`
	IDRegExp string `yaml:"idRegExp"`
}

// builderDoc is one entry of "builders": a plain string (an exact ID) or a
// mapping with "id" or "idRegExp".
type builderDoc builderFields

// UnmarshalYAML accepts both forms of a builder entry.
func (b *builderDoc) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*b = builderDoc{ID: s}
		return nil
	}
	var f builderFields
	if err := unmarshal(&f); err != nil {
		return err
	}
	*b = builderDoc(f)
	return nil
}

type thresholdsDoc struct {
	TlogEntries                 *int `yaml:"tlogEntries"`
	ObserverTimestamps          *int `yaml:"observerTimestamps"`
	SignedCertificateTimestamps *int `yaml:"signedCertificateTimestamps"`
}

// uploaderDoc is one entry of "uploaders": who may publish which source
// repositories to the control plane.
type uploaderDoc struct {
	Name         string   `yaml:"name"`
	Token        string   `yaml:"token"`
	OIDC         *oidcDoc `yaml:"oidc"`
	Repositories []string `yaml:"repositories"`
}

// oidcDoc is an uploader rule's GitHub Actions OIDC identity.
type oidcDoc struct {
	Issuer               string    `yaml:"issuer"`
	RepositoryID         numericID `yaml:"repositoryID"`
	RepositoryOwnerID    numericID `yaml:"repositoryOwnerID"`
	JobWorkflowRef       string    `yaml:"jobWorkflowRef"`
	JobWorkflowRefRegExp string    `yaml:"jobWorkflowRefRegExp"`
	WorkflowRef          string    `yaml:"workflowRef"`
	WorkflowRefRegExp    string    `yaml:"workflowRefRegExp"`
	Ref                  string    `yaml:"ref"`
	RefRegExp            string    `yaml:"refRegExp"`
	RunnerEnvironment    string    `yaml:"runnerEnvironment"`
}

// numericID is a GitHub id as written: a quoted string, or bare decimal
// digits kept as written. YAML would read a bare 0x10, 0o20 or 1_6 as the
// number 16: the rule would name another id than the one the reader sees.
type numericID string

// UnmarshalYAML keeps the id's text.
func (n *numericID) UnmarshalYAML(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		var v string
		if err := yaml.Unmarshal(b, &v); err != nil {
			return err
		}
		*n = numericID(v)
		return nil
	}
	*n = numericID(s)
	return nil
}
