package ghreport_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/ghreport"
	"github.com/slipway/actions/internal/testresult"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const siteSecret = "Sup3rS3cret!value"

func newClient(t *testing.T, gh *githubfake.Server) *ghclient.Client {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{APIURL: gh.URL, Token: githubfake.Token, Retry: ghclient.Retry{Base: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verifyFailure(t *testing.T) *ghreport.Failed {
	t.Helper()
	r, err := ghreport.ReadVerifyReport("testdata/verify-failed.json")
	if err != nil {
		t.Fatal(err)
	}
	f := ghreport.FromReport(r)
	if f.Log, err = ghreport.ReadLogTail("testdata/build.log"); err != nil {
		t.Fatal(err)
	}
	return f
}

func event(status ghreport.Status, stage string, f *ghreport.Failed, run int) ghreport.Event {
	return ghreport.Event{Repository: "octo/app", Workflow: "release", Stage: stage, Status: status, Failure: f,
		RunURL: fmt.Sprintf("https://github.com/octo/app/actions/runs/%d/attempts/1", run), Commit: "0123456789abcdef0123456789abcdef01234567",
		ReleaseURL: "https://slipway.example.org/api/v1/releases/r-0123456789abcdef"}
}

// TestReport: a failure opens one issue with the failed check, the masked
// log and the verification report; the same failure again comments on it
// (found on the second page of open issues, beside a pull request and an
// issue without the marker); another check opens a second one; a pass of
// the stage closes both with a comment; a pass with nothing open does
// nothing.
func TestReport(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	labels := []string{"slipway", "pipeline-failure"}
	gh.Lock()
	for i := range 130 {
		gh.Issues = append(gh.Issues, &githubfake.Issue{Number: i + 1, Title: "unrelated", State: "open", Labels: labels, Body: "no marker here"})
	}
	gh.Unlock()
	o := ghreport.Options{Client: newClient(t, gh), Labels: labels, Masker: ghreport.NewMasker(siteSecret, "hunter2-is-long")}
	ctx := context.Background()
	verifyFail := verifyFailure(t)

	out, err := ghreport.Report(ctx, o, event(ghreport.Failure, "verify", verifyFail, 1))
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != ghreport.Opened || out.Issues[0].Number != 131 {
		t.Fatalf("outcome %+v, want issue 131 opened", out)
	}
	gh.Lock()
	first := *gh.Issues[130]
	// A pull request carrying the marker is not an issue to comment on.
	gh.Issues = append(gh.Issues, &githubfake.Issue{Number: 132, Title: "pr", State: "open", Labels: labels, Body: first.Body, PullRequest: true})
	// Newer unrelated issues push the reported one to page 2.
	for i := range 100 {
		gh.Issues = append(gh.Issues, &githubfake.Issue{Number: 133 + i, Title: "unrelated", State: "open", Labels: labels, Body: "x"})
	}
	gh.Unlock()
	if !slices.Equal(first.Labels, labels) || !strings.HasPrefix(first.Title, "slipway: verify failed at check signature (release)") {
		t.Errorf("issue: title %q labels %q", first.Title, first.Labels)
	}
	for _, leak := range []string{siteSecret, "hunter2-is-long", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "s3cr3tvalue"} {
		if strings.Contains(first.Body, leak) {
			t.Errorf("the issue body carries the secret %q", leak)
		}
	}
	golden(t, "testdata/issue.md.golden", first.Body)

	out, err = ghreport.Report(ctx, o, event(ghreport.Failure, "verify", verifyFail, 2))
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != ghreport.Commented || out.Issues[0].Number != 131 {
		t.Fatalf("outcome %+v, want a comment on 131", out)
	}
	gh.Lock()
	if n := len(gh.Issues[130].Comments); n != 1 || !strings.Contains(gh.Issues[130].Comments[0], "runs/2/attempts/1") {
		t.Errorf("comments on 131: %q", gh.Issues[130].Comments)
	}
	if !slices.Contains(gh.Requests, "GET /repos/octo/app/issues?labels=slipway%2Cpipeline-failure&page=2&per_page=100&state=open") {
		t.Errorf("the second page was not asked for: %q", gh.Requests)
	}
	gh.Unlock()

	tests := testFailure(t)
	out, err = ghreport.Report(ctx, o, event(ghreport.Failure, "test", tests, 3))
	if err != nil || out.Action != ghreport.Opened || out.Issues[0].Number != 233 {
		t.Fatalf("outcome %+v, %v; want issue 233 opened", out, err)
	}
	out, err = ghreport.Report(ctx, o, event(ghreport.Success, "verify", nil, 4))
	if err != nil || out.Action != ghreport.Closed || len(out.Issues) != 1 || out.Issues[0].Number != 131 {
		t.Fatalf("outcome %+v, %v; want 131 closed", out, err)
	}
	gh.Lock()
	is := gh.Issues[130]
	if is.State != "closed" || is.StateReason != "completed" || !strings.Contains(is.Comments[len(is.Comments)-1], "passed again") {
		t.Errorf("131: state %s (%s), comments %q", is.State, is.StateReason, is.Comments)
	}
	if gh.Issues[232].State != "open" {
		t.Errorf("the test stage's issue was closed by verify's pass")
	}
	gh.Unlock()
	out, err = ghreport.Report(ctx, o, event(ghreport.Success, "verify", nil, 5))
	if err != nil || out.Action != ghreport.Nothing {
		t.Fatalf("outcome %+v, %v; want nothing done", out, err)
	}
}

func testFailure(t *testing.T) *ghreport.Failed {
	t.Helper()
	f, err := os.Open("testdata/gotest-failed.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := testresult.Parse("gotest-failed.json", f, testresult.Auto)
	if err != nil {
		t.Fatal(err)
	}
	failed := ghreport.FromTests(r)
	if failed == nil || failed.Check != "tests" || !strings.Contains(failed.Subject, "TestGreeting") {
		t.Fatalf("failure %+v", failed)
	}
	return failed
}

// TestReportRateLimited: a secondary rate limit on opening the issue is
// waited out (Retry-After) and the issue opened once.
func TestReportRateLimited(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	gh.Fail("POST /repos/octo/app/issues", githubfake.Fault{Status: 403, Body: "rate_limit_secondary", Header: map[string][]string{"Retry-After": {"1"}}})
	out, err := ghreport.Report(context.Background(), ghreport.Options{Client: newClient(t, gh)}, event(ghreport.Failure, "dispatch", ghreport.FromJob(ghreport.Job{ID: "42", State: "FAILED", ExitCode: "3"}), 1))
	if err != nil || out.Action != ghreport.Opened {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	gh.Lock()
	defer gh.Unlock()
	if len(gh.Issues) != 1 || !strings.Contains(gh.Issues[0].Body, "Slurm job 42 ended FAILED with exit code 3") {
		t.Fatalf("issues: %+v", gh.Issues)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/ghreport -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs; got:\n%s", filepath.Base(path), got)
	}
}
