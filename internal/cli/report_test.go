package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/githubfake"
)

// TestReportCommand: slipway report as an if: always() step would run it:
// a failed verify opens an issue (the secret of another stage's variable
// and the token masked in the log excerpt), a failed job in the same run
// opens its own, the same verify failure comments, a pass closes; bad
// input is exit 2 before GitHub is asked.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	dir := t.TempDir()
	report, err := os.ReadFile("../ghreport/testdata/verify-failed.json")
	if err != nil {
		t.Fatal(err)
	}
	const password = "cosign-pw-0123456789"
	log := "step 1\nusing " + password + " and " + githubfake.Token + "\nFAIL signature\n"
	for name, data := range map[string]string{"report.json": string(report), "verify.log": log} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"GITHUB_TOKEN": githubfake.Token, "GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "octo/app",
		"GITHUB_WORKFLOW": "release", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "2",
		"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "COSIGN_PASSWORD": password}
	steps := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{args: []string{"--stage-name", "verify", "--status", "failure", "--report", "report.json", "--log", "verify.log"},
			wantStdout: "action=opened\nissue-number=1\nissue-url=https://github.com/octo/app/issues/1\n"},
		{args: []string{"--stage-name", "dispatch", "--status", "failure", "--job-id", "42", "--job-state", "TIMEOUT", "--job-exit-code", "-1"},
			wantStdout: "action=opened\nissue-number=2\n"},
		{args: []string{"--stage-name", "verify", "--status", "failure", "--report", "report.json"},
			wantStdout: "action=commented\nissue-number=1\n"},
		{args: []string{"--stage-name", "verify", "--status", "success"}, wantStdout: "action=closed\nissue-number=1\n"},
		{args: []string{"--stage-name", "verify", "--status", "cancelled"}, wantStdout: "action=none\n"},
		{args: []string{"--stage-name", "verify", "--status", "broken"}, code: 2, wantStderr: `input "status": "broken" is not failure`},
		{args: []string{"--stage-name", "verify", "--status", "failure", "--report", "verify.log"}, code: 2, wantStderr: `input "report": `},
		{args: []string{"--stage-name", "verify", "--status", "failure", "--report", "../outside.json"}, code: 2, wantStderr: `input "report"`},
		{args: []string{"--stage-name", "verify", "--status", "success", "--repository", "octo/other"}, code: 2, wantStderr: "404 Not Found"},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, dir, env, append([]string{"report"}, s.args...)...)
		if code != s.code || !strings.Contains(stdout, s.wantStdout) || !strings.Contains(stderr, s.wantStderr) {
			t.Fatalf("report %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", s.args, code, stdout, stderr, s.code, s.wantStdout, s.wantStderr)
		}
		if strings.Contains(stdout+stderr, githubfake.Token) {
			t.Fatalf("report %q printed the token", s.args)
		}
	}
	gh.Lock()
	defer gh.Unlock()
	if len(gh.Issues) != 2 {
		t.Fatalf("%d issues, want 2", len(gh.Issues))
	}
	body := gh.Issues[0].Body
	for _, want := range []string{"FAIL signature app.tar.gz", "https://github.com/octo/app/actions/runs/77/attempts/2", "using *** and ***"} {
		if !strings.Contains(body, want) {
			t.Errorf("issue 1 lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, password) || strings.Contains(body, githubfake.Token) {
		t.Errorf("issue 1 carries a secret:\n%s", body)
	}
	if gh.Issues[0].State != "closed" || gh.Issues[1].State != "open" || !strings.Contains(gh.Issues[1].Body, "Slurm job 42 ended TIMEOUT") {
		t.Errorf("issues: %+v %+v", gh.Issues[0], gh.Issues[1])
	}
}
