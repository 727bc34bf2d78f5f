package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// TestDispatchOIDC: with no SLIPWAY_TOKEN, inside a job that may request
// ID tokens, slipway dispatch authenticates to the control plane with the
// job's GitHub Actions OIDC ID token for audience (as slipway upload does):
// the release is read with it, the job runs on the real cluster, and the
// dispatch is authorized and recorded under the OIDC identity the policy's
// uploader rule allows. A job of another repository is not authorized, and
// nothing is submitted (Slurm knows no job with its comment); no
// credentials at all is a clear error.
func TestDispatchOIDC(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	const aud = "https://slipway.dispatch.invalid"
	iss := sigstoretest.StartOIDCIssuer(t, "")
	claims := sigstoretest.GitHubClaims("acme/app", ".github/workflows/hpc.yml")

	dir := t.TempDir()
	env := releaseWith(t, dir, "", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/hpc.yml@refs/heads/main",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "7", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")})
	policy := string(mustRead(t, filepath.Join(dir, "policy.yaml"))) + `uploaders:
  - name: hpc
    oidc: {issuer: "` + iss.URL + `", repositoryID: "` + claims["repository_id"].(string) + `"}
    repositories: ["git+https://github.com/acme/app"]
  - name: ci
    token: ci
    repositories: ["git+https://github.com/acme/app"]
`
	writeFile(t, filepath.Join(dir, "server-policy.yaml"), policy)
	data := t.TempDir()
	tok := createToken(t, dir, data, "upload,read")
	url := startServe(t, dir, data, "server-policy.yaml", "--oidc-audience", aud)
	env = map[string]string{"PATH": env["PATH"], "SLIPWAY_TOKEN": tok}
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	id := nameValues(stdout)["release-id"]
	if code != 0 || id == "" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	resp, err := http.Get(url + "/api/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	var key strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	resp.Body.Close()
	key.Write(buf[:n])
	writeFile(t, filepath.Join(c.Shared, "release.pub"), string(mustRead(t, filepath.Join(dir, "cosign.pub"))))
	dpolicy := filepath.Join(c.Shared, "policy.yaml")
	writeFile(t, dpolicy, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\nlog: {verifierKey: \""+strings.TrimSpace(key.String())+"\"}\n")
	s := &slurmSite{cluster: c, policy: dpolicy, slipway: filepath.Join(c.Shared, "slipway")}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(s.slipway, 0o755)

	dispatchAs := func(t *testing.T, jobClaims map[string]any, run, work string) (int, string) {
		t.Helper()
		denv := map[string]string{"PATH": env["PATH"], "GITHUB_RUN_ID": run, "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "run"}
		if jobClaims != nil {
			for k, v := range sigstoretest.StartTokenEndpoint(t, iss.Issuer, jobClaims).Env() {
				denv[k] = v
			}
		}
		code, stdout, stderr := runCLI(t, dir, denv, "dispatch", "--server", url, "--release", id, "--audience", aud, "--policy", dpolicy,
			"--artifact", "src/a.bin", "--partition", c.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
			"--slipway", s.slipway, "--workdir", filepath.Join(c.Shared, work), "--tlog=false", "--command", "true")
		text := stdout + stderr
		if denv["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] != "" && strings.Contains(text, denv["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]) {
			t.Errorf("dispatch printed the ID token request token")
		}
		return code, text
	}

	code, text := dispatchAs(t, claims, "oidc-ok", "ok")
	m := regexp.MustCompile(`Recorded at the control plane: dispatch (\S+),`).FindStringSubmatch(text)
	if code != 0 || m == nil {
		t.Fatalf("dispatch with the job's OIDC ID token: exit %d\n%s", code, text)
	}
	if !strings.Contains(text, "GitHub Actions OIDC") {
		t.Errorf("the log does not say it authenticated with OIDC:\n%s", text)
	}
	req, _ := http.NewRequest("GET", url+"/api/v1/dispatches/"+m[1], nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Requester string }
	json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(rec.Requester, "oidc:acme/app:") {
		t.Errorf("the dispatch's record: %d, requester %q; want the OIDC identity of acme/app", resp.StatusCode, rec.Requester)
	}

	other := sigstoretest.GitHubClaims("acme/other", ".github/workflows/hpc.yml")
	other["repository_id"] = "999"
	if code, text := dispatchAs(t, other, "oidc-other", "other"); code == 0 || !strings.Contains(text, "uploader rules") || !strings.Contains(text, "nothing was submitted") {
		t.Errorf("a job of another repository: exit %d; want refused by the uploader rules before anything was submitted\n%s", code, text)
	}
	if jobs := jobsWithComment(t, ":run=oidc-other.1:job=run:release="+id+":"); len(jobs) != 0 {
		t.Errorf("a job the control plane did not authorize was submitted: %q", jobs)
	}
	if code, text := dispatchAs(t, nil, "oidc-none", "none"); code == 0 || !strings.Contains(text, "id-token: write") {
		t.Errorf("no token and no ID token: exit %d\n%s", code, text)
	}
}
