package sigstoretest

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigstore/fulcio/pkg/certificate"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// fulcioRequest is Fulcio's v2 CreateSigningCertificate request in JSON.
type fulcioRequest struct {
	PublicKeyRequest struct {
		PublicKey struct {
			Algorithm string `json:"algorithm"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession string `json:"proofOfPossession"`
	} `json:"publicKeyRequest"`
}

// fulcioError answers like Fulcio's gRPC gateway: {"code": N, "message": …}.
func fulcioError(w http.ResponseWriter, status, code int, format string, a ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": fmt.Sprintf(format, a...), "details": []any{}})
}

func (s *Sigstore) fulcio(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || token == "" {
		fulcioError(w, http.StatusUnauthorized, 16, "There was an error processing the identity token")
		return
	}
	claims, err := s.Issuer.Verify(token, "sigstore")
	if err != nil {
		fulcioError(w, http.StatusUnauthorized, 16, "There was an error processing the identity token: %v", err)
		return
	}
	var req fulcioRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		fulcioError(w, http.StatusBadRequest, 3, "The certificate request was invalid: %v", err)
		return
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
	if err != nil {
		fulcioError(w, http.StatusBadRequest, 3, "The public key supplied in the request could not be parsed")
		return
	}
	sub, _ := claims["sub"].(string)
	pop, err := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
	if err != nil {
		fulcioError(w, http.StatusBadRequest, 3, "The proof of possession is not base64")
		return
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		fulcioError(w, http.StatusBadRequest, 3, "The public key is not supported: %v", err)
		return
	}
	if err := v.VerifySignature(strings.NewReader(string(pop)), strings.NewReader(sub)); err != nil {
		fulcioError(w, http.StatusBadRequest, 3, "The signature supplied in the request could not be verified")
		return
	}
	leaf, err := s.issue(pub, claims)
	if err != nil {
		fulcioError(w, http.StatusInternalServerError, 13, "Error creating certificate: %v", err)
		return
	}
	chain := []string{}
	for _, c := range []*x509.Certificate{leaf, s.caInter, s.caRoot} {
		chain = append(chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	s.Certificates.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}},
	})
}

// issue makes a ten-minute code-signing certificate for the token's
// identity, with Fulcio's extensions.
func (s *Sigstore) issue(pub crypto.PublicKey, claims map[string]any) (*x509.Certificate, error) {
	str := func(k string) string { v, _ := claims[k].(string); return v }
	iss := str("iss")
	ext := certificate.Extensions{Issuer: iss, Subject: str("sub")}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		NotBefore:    s.Now().Add(-time.Minute),
		NotAfter:     s.Now().Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if iss == GitHubIssuer || s.githubIssuer {
		gh := "https://github.com/"
		san, err := url.Parse(gh + str("job_workflow_ref"))
		if err != nil {
			return nil, err
		}
		tmpl.URIs = []*url.URL{san}
		ext.GithubWorkflowTrigger = str("event_name")
		ext.GithubWorkflowSHA = str("sha")
		ext.GithubWorkflowName = str("workflow")
		ext.GithubWorkflowRepository = str("repository")
		ext.GithubWorkflowRef = str("ref")
		ext.BuildSignerURI = san.String()
		ext.BuildSignerDigest = str("job_workflow_sha")
		ext.RunnerEnvironment = str("runner_environment")
		ext.SourceRepositoryURI = gh + str("repository")
		ext.SourceRepositoryDigest = str("sha")
		ext.SourceRepositoryRef = str("ref")
		ext.SourceRepositoryIdentifier = str("repository_id")
		ext.SourceRepositoryOwnerURI = gh + str("repository_owner")
		ext.SourceRepositoryOwnerIdentifier = str("repository_owner_id")
		ext.BuildConfigURI = gh + str("workflow_ref")
		ext.BuildConfigDigest = str("workflow_sha")
		ext.BuildTrigger = str("event_name")
		ext.RunInvocationURI = gh + str("repository") + "/actions/runs/" + str("run_id") + "/attempts/" + str("run_attempt")
		ext.SourceRepositoryVisibilityAtSigning = str("repository_visibility")
	} else if email := str("email"); email != "" {
		tmpl.EmailAddresses = []string{email}
	} else {
		san, err := url.Parse(str("sub"))
		if err != nil || san.Scheme == "" {
			return nil, fmt.Errorf("token subject %q is neither an e-mail nor a URI", str("sub"))
		}
		tmpl.URIs = []*url.URL{san}
	}
	exts, err := ext.Render()
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = exts
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.caInter, pub, s.caInterKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
