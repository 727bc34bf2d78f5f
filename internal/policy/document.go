package policy

// document is a trust policy as written: every field of the YAML, before
// validation. Field names are the YAML keys; docs/policy.md describes each.
type document struct {
	APIVersion             string         `yaml:"apiVersion"`
	Kind                   string         `yaml:"kind"`
	Name                   string         `yaml:"name"`
	Keys                   []keyDoc       `yaml:"keys"`
	Identities             []identityDoc  `yaml:"identities"`
	GPGKeys                []gpgKeyDoc    `yaml:"gpgKeys"`
	Builders               []builderDoc   `yaml:"builders"`
	SourceRepositories     []string       `yaml:"sourceRepositories"`
	RequiredPredicateTypes []string       `yaml:"requiredPredicateTypes"`
	AllowedPredicateTypes  []string       `yaml:"allowedPredicateTypes"`
	MaxAge                 string         `yaml:"maxAge"`
	TrustedRoot            string         `yaml:"trustedRoot"`
	Tlog                   string         `yaml:"tlog"`
	Thresholds             *thresholdsDoc `yaml:"thresholds"`
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
