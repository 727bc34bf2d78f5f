package provenance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/oidc"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// githubEnv is a fixed GitHub Actions job environment; runnerEnv and the
// runner's name vary between the tests.
func githubEnv(runnerEnv, runnerName string) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":             "true",
		"GITHUB_SERVER_URL":          "https://github.com",
		"GITHUB_REPOSITORY":          "slipway-demo/hello",
		"GITHUB_REPOSITORY_ID":       "812345678",
		"GITHUB_REPOSITORY_OWNER_ID": "98765432",
		"GITHUB_WORKFLOW_REF":        "slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_EVENT_NAME":          "workflow_dispatch",
		"GITHUB_EVENT_PATH":          filepath.Join("testdata", "event-workflow_dispatch.json"),
		"GITHUB_REF":                 "refs/heads/main",
		"GITHUB_SHA":                 "4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4",
		"GITHUB_RUN_ID":              "123456789",
		"GITHUB_RUN_ATTEMPT":         "2",
		"RUNNER_ENVIRONMENT":         runnerEnv,
		"RUNNER_NAME":                runnerName,
		"RUNNER_OS":                  "Linux",
		"RUNNER_ARCH":                "X64",
	}
}

// token returns an unsigned JWT carrying claims, as the runner's token
// endpoint would (signature verification is Fulcio's job).
func token(t testing.TB, claims map[string]string) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + "." + enc([]byte("signature"))
}

func hostedClaims(runnerEnv string) map[string]string {
	return map[string]string{
		"iss":                 "https://token.actions.githubusercontent.com",
		"sub":                 "repo:slipway-demo/hello:ref:refs/heads/main",
		"repository":          "slipway-demo/hello",
		"repository_id":       "812345678",
		"repository_owner_id": "98765432",
		"ref":                 "refs/heads/main",
		"sha":                 "4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4",
		"workflow_ref":        "slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_ref":    "slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0",
		"job_workflow_sha":    "0123456789abcdef0123456789abcdef01234567",
		"run_id":              "123456789",
		"run_attempt":         "2",
		"event_name":          "workflow_dispatch",
		"runner_environment":  runnerEnv,
	}
}

func mustClaims(t testing.TB, m map[string]string) *oidc.Claims {
	t.Helper()
	c, err := oidc.ParseGitHubClaims(token(t, m))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStatementGolden proves the whole statement, byte for byte, for a
// fixed manifest in three fixed environments.
func TestStatementGolden(t *testing.T) {
	t.Parallel()
	m, err := artifact.ReadManifest(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		config BuilderConfig
	}{
		{"github-hosted", BuilderConfig{Getenv: env(githubEnv("github-hosted", "GitHub Actions 12")), Claims: mustClaims(t, hostedClaims("github-hosted"))}},
		{"self-hosted", BuilderConfig{
			Getenv:       env(githubEnv("self-hosted", "headnode-01")),
			ConfiguredID: "https://hpc.example.org/runners/headnode-pool",
			RunnerLabels: []string{"self-hosted", "linux", "hpc"},
		}},
		{"local", BuilderConfig{Getenv: env(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := DetectBuilder(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			st, err := New(Options{Subjects: m.Subjects(), Build: m.Build, Builder: b, Version: "v1.0.0-test"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Marshal(st)
			if !bytes.Equal(got, again) {
				t.Fatal("Marshal() is not deterministic")
			}
			golden := filepath.Join("testdata", tc.name+".intoto.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("statement differs from %s (run with -update if the change is intended):\ngot  %s\nwant %s", golden, got, want)
			}
		})
	}
}
