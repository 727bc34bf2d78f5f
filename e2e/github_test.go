package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

// TestGitHubFaces runs actions/report and actions/publish as docs/report.md and docs/publish.md show them
// (testdata/workflows/github.yml, on a push of tag v1.0.0), under act, against internal/testutil/githubfake on a
// loopback port, which the action containers reach through act's --network host. The workflow names no API URL,
// token or repository: act's GITHUB_API_URL (--env, which act also makes github.api_url), its github.token
// (the GITHUB_TOKEN secret) and GITHUB_REPOSITORY (the project's origin) point the actions at the fake, as the
// runner's do on GitHub.
//
// Three runs of the one workflow (one name, so one report fingerprint): the sample's test fails twice (its
// expected greeting changed), then passes. The report opens one issue naming the stage and the failed check,
// comments on it the second time and closes it on the pass; the staging password the test printed into its log
// is in no issue, comment or line of act's log. Publish creates the tag's release at the run's commit with every
// file the build manifest records and the manifest. Each later run builds again: its reproducible files are
// already there and kept, its manifest (new build times) is other content for the same tag and refused, as
// docs/publish.md says; nothing is uploaded or replaced.
func TestGitHubFaces(t *testing.T) {
	takeTurn(t)
	owner, repo, _ := strings.Cut(SampleRepository, "/")
	gh := githubfake.New(t, owner, repo)
	const password = "staging-correct-horse-4711" // matches no masking pattern: only the mask input hides it
	event := filepath.Join(t.TempDir(), "event.json")
	writeJSON(t, event, map[string]any{"ref": "refs/tags/v1.0.0"})
	suffix := runSuffix()
	workflow := "e2e-github-" + suffix
	published := false // the release holds an earlier run's build
	actRun := func(failing bool) *Result {
		t.Helper()
		var files map[string]string
		if failing {
			files = map[string]string{"test/greeting.txt": "Hello, e2e! (hello 2.0.0)\n"}
		}
		r := Run(t, Scenario{
			Workflow:  "testdata/workflows/github.yml",
			Event:     "push",
			EventPath: event,
			Suffix:    suffix,
			Files:     files,
			Env:       map[string]string{"GITHUB_API_URL": gh.URL},
			Secrets:   map[string]string{"GITHUB_TOKEN": githubfake.Token, "STAGING_PASSWORD": password},
		})
		var want, failed []string
		if published {
			want = append(want, "release/publish")
		}
		if failing {
			want = append(want, "test/test")
		}
		for _, s := range r.FailedSteps() {
			failed = append(failed, strings.Fields(s)[0])
		}
		if slices.Sort(failed); !slices.Equal(failed, want) {
			t.Fatalf("failed steps %v, want %v; jobs: %v", r.FailedSteps(), want, r.Jobs)
		}
		published = true
		checkLogHides(t, r, map[string]string{"the staging password": password, "the GitHub token": githubfake.Token})
		return r
	}
	issue := func() githubfake.Issue {
		t.Helper()
		gh.Lock()
		defer gh.Unlock()
		if len(gh.Issues) != 1 {
			t.Fatalf("GitHub has %d issues, want 1", len(gh.Issues))
		}
		is := *gh.Issues[0]
		is.Comments = slices.Clone(is.Comments)
		for _, text := range append([]string{is.Title, is.Body}, is.Comments...) {
			if strings.Contains(text, password) || strings.Contains(text, githubfake.Token) {
				t.Errorf("issue #%d carries a secret:\n%s", is.Number, text)
			}
		}
		return is
	}
	reported := func(r *Result, action string, number int) {
		t.Helper()
		if got := r.Output("test", "report", "action"); got != action {
			t.Errorf("report's action = %q, want %q", got, action)
		}
		if got := r.Output("test", "report", "issue-number"); got != strconv.Itoa(number) {
			t.Errorf("report's issue-number = %q, want %d", got, number)
		}
	}

	// The first failure opens the issue: stage, check, failed test, the log's lines with the password masked.
	r := actRun(true)
	is := issue()
	reported(r, "opened", is.Number)
	if want := "slipway: test failed at check tests (" + workflow + ")"; is.Title != want {
		t.Errorf("issue title %q, want %q", is.Title, want)
	}
	for _, want := range []string{
		"### Stage `test` failed at check `tests`",
		"FAIL tests hello/TestGreeting: 1 test(s) failed; the first: the greeting differs\ngot Hello, e2e! (hello 1.0.0), want Hello, e2e! (hello 2.0.0)",
		"hello/TestGreeting: the greeting differs got Hello, e2e! (hello 1.0.0), want Hello, e2e! (hello 2.0.0)",
		"signing in to staging with ***\nFAIL TestGreeting: got Hello, e2e! (hello 1.0.0)",
		"**Repository** `" + SampleRepository + "` · **Workflow** `" + workflow + "`",
	} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("the issue's body lacks %q:\n%s", want, is.Body)
		}
	}
	if is.State != "open" || !slices.Equal(is.Labels, []string{"slipway", "pipeline-failure"}) || len(is.Comments) != 0 {
		t.Errorf("issue #%d: state %s, labels %v, %d comments; want open, [slipway pipeline-failure], none", is.Number, is.State, is.Labels, len(is.Comments))
	}
	// The release is created at the run's commit (GITHUB_SHA) with the build's files and its manifest.
	target := strings.TrimSpace(run(t, "git", "-C", filepath.Join(r.Dir, "src"), "rev-parse", "HEAD"))
	assets := checkGitHubRelease(t, gh, target)
	if got := r.Output("release", "publish", "uploaded") + "/" + r.Output("release", "publish", "kept"); got != "3/0" {
		t.Errorf("publish uploaded/kept = %s, want 3/0", got)
	}
	if id := r.Output("release", "publish", "release-id"); id != strconv.FormatInt(gh.Releases[0].ID, 10) {
		t.Errorf("publish's release-id = %q, want %d", id, gh.Releases[0].ID)
	}
	uploads := countRequests(gh, "POST", "/assets")

	// The same failure again: a comment on that issue, no second issue. The rebuilt files are kept, the new
	// manifest refused.
	r = actRun(true)
	is2 := issue()
	reported(r, "commented", is.Number)
	if is2.Number != is.Number || is2.State != "open" || len(is2.Comments) != 1 {
		t.Fatalf("after the second failure: issue #%d %s with %d comments, want #%d open with 1", is2.Number, is2.State, len(is2.Comments), is.Number)
	}
	if c := is2.Comments[0]; !strings.Contains(c, "Failed again at check `tests`") || !strings.Contains(c, "signing in to staging with ***\n") {
		t.Errorf("the comment does not report the failure again with the masked log:\n%s", c)
	}
	checkRepublished(t, gh, r, target, assets, uploads)

	// The pass closes it.
	r = actRun(false)
	is3 := issue()
	reported(r, "closed", is.Number)
	if is3.State != "closed" || len(is3.Comments) != 2 {
		t.Errorf("after the pass: issue #%d %s with %d comments, want closed with 2", is3.Number, is3.State, len(is3.Comments))
	}
	checkRepublished(t, gh, r, target, assets, uploads)
	if n := countRequests(gh, "POST", "/repos/"+SampleRepository+"/issues"); n != 1 {
		t.Errorf("%d issues were created, want 1", n)
	}
}

// releaseAsset is what a test remembers of a release asset.
type releaseAsset struct {
	ID     int64
	Digest digest.SHA256
}

// checkGitHubRelease checks the fake's one release after a run of github.yml: tag v1.0.0 at commit target, holding
// exactly the files the manifest asset records and the manifest, each with its recorded digest. It returns the
// assets by name.
func checkGitHubRelease(t *testing.T, gh *githubfake.Server, target string) map[string]releaseAsset {
	t.Helper()
	gh.Lock()
	defer gh.Unlock()
	if len(gh.Releases) != 1 {
		t.Fatalf("GitHub has %d releases, want 1", len(gh.Releases))
	}
	rel := gh.Releases[0]
	if rel.Tag != "v1.0.0" || rel.Target != target {
		t.Errorf("release %q at %q, want v1.0.0 at %s", rel.Tag, rel.Target, target)
	}
	assets := map[string]releaseAsset{}
	var man *artifact.Manifest
	for _, a := range rel.Assets {
		assets[a.Name] = releaseAsset{ID: a.ID, Digest: digest.SHA256(sha256.Sum256(a.Data))}
		if a.Name == "manifest.json" {
			var err error
			if man, err = artifact.Decode(bytes.NewReader(a.Data), "the manifest.json asset"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if man == nil {
		t.Fatalf("the release has no manifest.json: %v", assets)
	}
	want := []string{"manifest.json"}
	for _, rec := range man.Records {
		if rec.Path == "" {
			continue
		}
		name := filepath.Base(rec.Path)
		want = append(want, name)
		if assets[name].Digest != rec.Digest {
			t.Errorf("asset %s has %s, the manifest records %s", name, assets[name].Digest, rec.Digest)
		}
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(assets)); !slices.Equal(got, want) || len(want) != 3 {
		t.Errorf("release assets %v, want %v (hello, hello-src.tar.gz and the manifest)", got, want)
	}
	return assets
}

// checkRepublished checks a later run's publish step: it kept the rebuilt (reproducible) files, refused the new
// manifest as other content naming the way out, and left the release as it was, with no upload since uploads.
func checkRepublished(t *testing.T, gh *githubfake.Server, r *Result, target string, assets map[string]releaseAsset, uploads int) {
	t.Helper()
	var kept []string
	for _, l := range r.lines {
		if _, name, ok := strings.Cut(strings.TrimSpace(l.Msg), `msg="asset already there with the same content: kept" asset=`); ok {
			kept = append(kept, name)
		}
	}
	if want := []string{"hello", "hello-src.tar.gz"}; !slices.Equal(kept, want) {
		t.Errorf("publish kept %v, want %v", kept, want)
	}
	if !r.Logged(`release asset "manifest.json" exists with other content than "dist/manifest.json"`) || !r.Logged("set replace to overwrite it") {
		t.Error("publish did not refuse the rebuilt manifest as other content")
	}
	if again := checkGitHubRelease(t, gh, target); !maps.Equal(again, assets) {
		t.Errorf("the release's assets changed: %v, were %v", again, assets)
	}
	if n := countRequests(gh, "POST", "/assets"); n != uploads {
		t.Errorf("%d uploads, want %d: the later run uploaded", n, uploads)
	}
	if n := countRequests(gh, "DELETE", ""); n != 0 {
		t.Errorf("%d assets deleted, want none", n)
	}
}

// countRequests counts the fake's requests of method whose path (without the query) ends with suffix.
func countRequests(gh *githubfake.Server, method, suffix string) int {
	gh.Lock()
	defer gh.Unlock()
	n := 0
	for _, req := range gh.Requests {
		m, uri, _ := strings.Cut(req, " ")
		if p, _, _ := strings.Cut(uri, "?"); m == method && strings.HasSuffix(p, suffix) {
			n++
		}
	}
	return n
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
