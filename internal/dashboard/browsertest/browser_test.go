package browsertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/testutil/chromium"
)

// wait is how long a step may wait for the page (a Slurm job, htmx's polling, the in-page check) before the test
// gives up; no step asserts how long it took.
const wait = 2 * time.Minute

// TestDashboard opens the dashboard of a real slipway serve --slurm (newSite) in a real headless Chromium, each
// part in a tab of its own with a session of its own: every page loads without console errors, uncaught
// exceptions or CSP violations; the releases list is searched by repository and by digest; the refused upload's
// failed check is on the rejections page; a running job's log tail grows in the page without a reload and stops
// when the job ends; the tokens page refuses a read session and lets an admin create a token (its secret shown
// once) and revoke it; the log page's in-page consistency check passes for real checkpoints and fails for a forged
// one. With -update it writes the main pages' screenshots into docs/dashboard/.
func TestDashboard(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := chromium.Start(t)
	t.Run("pages", func(t *testing.T) { t.Parallel(); testPages(t, s, b) })
	t.Run("search", func(t *testing.T) { t.Parallel(); testSearch(t, s, b) })
	t.Run("rejection", func(t *testing.T) { t.Parallel(); testRejection(t, s, b) })
	t.Run("live tail", func(t *testing.T) { t.Parallel(); testLiveTail(t, s, b) })
	t.Run("log check", func(t *testing.T) { t.Parallel(); testLogCheck(t, s, b) })
	t.Run("admin scope", func(t *testing.T) { t.Parallel(); testAdminScope(t, s, b) })
}

// testAdminScope: the tokens page refuses a read session (and so does the control plane when that session posts
// the form anyway); an admin's session makes a token, sees its value once, and revokes it, each confirmed by the API.
func testAdminScope(t *testing.T, s *site, b *chromium.Browser) {
	read := b.Tab(t)
	signIn(t, read, s, s.read)
	var text string
	run(t, read, "opening /ui/tokens with a read session", chromedp.Navigate(s.url+"/ui/tokens"), chromedp.Text("main", &text, chromedp.ByQuery))
	if !strings.Contains(text, "needs the admin scope") {
		t.Errorf("/ui/tokens with a read session does not say it needs the admin scope:\n%s", text)
	}
	var status int
	run(t, read, "posting the token form with a read session", chromedp.Evaluate(`(async () => {
		const h = JSON.parse(document.body.getAttribute('hx-headers'));
		const body = new URLSearchParams({name: 'made-by-a-reader', scope: 'admin', csrf: Object.values(h)[0]});
		const r = await fetch('/ui/tokens', {method: 'POST', headers: h, body: body});
		return r.status;
	})()`, &status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if status != http.StatusForbidden {
		t.Errorf("a read session's token form answered %d, want 403", status)
	}
	if list := s.text(t, "/api/v1/tokens", s.admin); strings.Contains(list, "made-by-a-reader") {
		t.Errorf("a read session made a token:\n%s", list)
	}
	for _, p := range read.Problems() { // the refusals are answered 403, which the browser logs; nothing else may be
		if p.Kind != "log" || !strings.Contains(p.Text, "403") {
			t.Errorf("/ui/tokens with a read session: the browser reported %s", p)
		}
	}

	admin := b.Tab(t)
	signIn(t, admin, s, s.admin)
	open(t, admin, s, "/ui/tokens")
	var secret string
	run(t, admin, "making a token",
		chromedp.SetValue(`form.search input[name="name"]`, "made-in-the-browser", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('form.search input[name="scope"]').forEach(c => c.checked = c.value === 'read')`, nil),
		chromedp.Click(`form.search button[type="submit"]`, chromedp.ByQuery))
	poll(t, admin, "the answer to the form", `document.querySelector('pre.secret, main .error') !== null`)
	var refused []string
	run(t, admin, "reading the answer", chromedp.Evaluate(`Array.from(document.querySelectorAll('main .error')).map(e => e.textContent)`, &refused))
	if len(refused) > 0 {
		t.Fatalf("making a token was refused: %q", refused)
	}
	run(t, admin, "reading the token",
		chromedp.Text(`pre.secret`, &secret, chromedp.ByQuery))
	secret = strings.TrimSpace(secret)
	if code := s.api(t, "GET", "/api/v1/identity", secret, nil, nil, 0); secret == "" || code != http.StatusOK {
		t.Fatalf("the token shown (%d bytes) does not work: GET /api/v1/identity answered %d", len(secret), code)
	}
	if *update { // a token's value never goes into the repository, even a dead one's
		run(t, admin, "hiding the value", chromedp.Evaluate(`document.querySelector('pre.secret').textContent = 'slw_…'`, nil))
		screenshot(t, admin, "tokens")
	}
	var html string
	run(t, admin, "opening the tokens page again", chromedp.Navigate(s.url+"/ui/tokens"), chromedp.OuterHTML("html", &html, chromedp.ByQuery))
	if strings.Contains(html, secret) {
		t.Error("the tokens page shows the token's value a second time")
	}
	run(t, admin, "revoking the token",
		chromedp.Click(`//tr[td[2][normalize-space()="made-in-the-browser"]]//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//tr[td[2][normalize-space()="made-in-the-browser"]]//span[@class="fail"]`, chromedp.BySearch))
	if code := s.api(t, "GET", "/api/v1/identity", secret, nil, nil, 0); code != http.StatusUnauthorized {
		t.Errorf("the revoked token: GET /api/v1/identity answered %d, want 401", code)
	}
	admin.NoProblems(t, "/ui/tokens as an admin")
}

// testPages opens every page with an admin's session (the tokens page needs it) and the login page without one.
func testPages(t *testing.T, s *site, b *chromium.Browser) {
	pages := []struct {
		name, path, want string
		shot             bool // a main page: its screenshot goes into docs/dashboard/
	}{
		{"releases", "/ui/", s.admitted["github.com/acme/tools"], true},
		{"release", "/ui/releases/" + s.admitted["github.com/acme/app"], "Verification report", true},
		{"rejections", "/ui/rejections", s.refusedCheck, true},
		{"log", "/ui/log", "Tree size", true},
		{"log-entry", "/ui/log/entries/0", "0", false},
		{"jobs", "/ui/jobs", "Slurm jobs", false},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			tab := b.Tab(t)
			signIn(t, tab, s, s.admin)
			text := open(t, tab, s, p.path)
			if !strings.Contains(text, p.want) {
				t.Errorf("%s does not show %q:\n%s", p.path, p.want, text)
			}
			tab.NoProblems(t, p.path)
			if p.shot {
				screenshot(t, tab, p.name)
			}
		})
	}
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		tab := b.Tab(t)
		if text := open(t, tab, s, "/ui/"); !strings.Contains(text, "Paste a token") {
			t.Errorf("/ui/ without a session is not the sign-in page:\n%s", text)
		}
		tab.NoProblems(t, "/ui/login")
	})
}

// testSearch searches the releases list by repository and by digest through its form, with a read session.
func testSearch(t *testing.T, s *site, b *chromium.Browser) {
	tab := b.Tab(t)
	signIn(t, tab, s, s.read)
	app, tools, ticker := s.admitted["github.com/acme/app"], s.admitted["github.com/acme/tools"], s.admitted["github.com/acme/ticker"]
	for _, tc := range []struct {
		field, value string
		want         string
		not          []string
	}{
		{"repository", "github.com/acme/tools", tools, []string{app, ticker}},
		{"digest", s.digest, app, []string{tools, ticker}},
	} {
		open(t, tab, s, "/ui/")
		var text string
		run(t, tab, "searching by "+tc.field,
			chromedp.SetValue(`form.search input[name="`+tc.field+`"]`, tc.value, chromedp.ByQuery),
			chromedp.Click(`form.search button[type="submit"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`table.list a[href="/ui/releases/`+tc.want+`"]`, chromedp.ByQuery),
			chromedp.Text("main", &text, chromedp.ByQuery))
		for _, not := range tc.not {
			if strings.Contains(text, not) {
				t.Errorf("the search by %s %q shows release %s too:\n%s", tc.field, tc.value, not, text)
			}
		}
		tab.NoProblems(t, "search by "+tc.field)
	}
}

// testRejection finds the refused upload's failed check on the rejections page, with a read session.
func testRejection(t *testing.T, s *site, b *chromium.Browser) {
	tab := b.Tab(t)
	signIn(t, tab, s, s.read)
	open(t, tab, s, "/ui/rejections")
	var row string
	run(t, tab, "reading the rejection", chromedp.Text(`table.list tbody tr`, &row, chromedp.ByQuery))
	if !strings.Contains(row, "src/app.bin") || !strings.Contains(row, "rejected") {
		t.Errorf("the rejection does not show the changed artifact as its subject: %q", row)
	}
	var check string
	run(t, tab, "reading the failed check", chromedp.Text(`table.list tbody tr td.fail:not(.mono)`, &check, chromedp.ByQuery))
	if strings.TrimSpace(check) != s.refusedCheck {
		t.Errorf("the failed check shown is %q, want %q (the 422's)", check, s.refusedCheck)
	}
	tab.NoProblems(t, "/ui/rejections")
}

// testLiveTail has the server submit the ticker's job and watches its page: the log grows in the same document
// (htmx's polling, no reload) and the polling ends with the job.
func testLiveTail(t *testing.T, s *site, b *chromium.Browser) {
	id := s.startJob(t)
	tab := b.Tab(t)
	signIn(t, tab, s, s.read)
	open(t, tab, s, "/ui/jobs/"+id)
	// A mark in this document: a reload would lose it.
	run(t, tab, "marking the document", chromedp.Evaluate(`window.slipwayTestMark = 1`, nil))
	poll(t, tab, "the job's first lines", `(document.querySelector('#job-log')?.textContent || '').includes('tick 1')`)
	var first string
	run(t, tab, "reading the log", chromedp.Text("#job-log", &first, chromedp.ByQuery))
	poll(t, tab, "the log to grow", fmt.Sprintf(`document.querySelector('#job-log').textContent.trim().split('\n').length > %d`, len(strings.Split(strings.TrimSpace(first), "\n"))))
	poll(t, tab, "the job's end", fmt.Sprintf(`document.querySelector('#job-state')?.textContent.trim() === 'COMPLETED' && document.querySelector('#job-log').textContent.includes('tick %d')`, tickLines))
	var mark bool
	var live, hxGet string
	run(t, tab, "reading the ended page",
		chromedp.Evaluate(`window.slipwayTestMark === 1`, &mark),
		chromedp.Evaluate(`document.querySelector('#job-tail').dataset.live`, &live),
		chromedp.Evaluate(`document.querySelector('#job-tail').getAttribute('hx-get') || ''`, &hxGet))
	if !mark {
		t.Error("the page was reloaded: the log tail did not grow in place")
	}
	if live != "false" || hxGet != "" {
		t.Errorf("the page still polls after the job ended: data-live %q, hx-get %q", live, hxGet)
	}
	tab.NoProblems(t, "/ui/jobs/"+id)
	screenshot(t, tab, "job")
}

// testLogCheck runs the log page's in-page consistency check: two real tree sizes, a real receipt's checkpoint
// against the latest, and a forged checkpoint.
func testLogCheck(t *testing.T, s *site, b *chromium.Browser) {
	tab := b.Tab(t)
	signIn(t, tab, s, s.read)
	receipt := s.text(t, "/api/v1/releases/"+s.admitted["github.com/acme/app"]+"/receipt", s.read)
	checkpoint := s.text(t, "/log/checkpoint", "")
	lines := strings.Split(checkpoint, "\n")
	if len(lines) < 3 {
		t.Fatalf("the log's checkpoint has %d lines:\n%s", len(lines), checkpoint)
	}
	forged := lines[0] + "\n" + lines[1] + "\n" + flipBase64(lines[2]) + "\n" + strings.Join(lines[3:], "\n")
	for _, tc := range []struct {
		name, want string
		fill       []chromedp.Action
	}{
		{"two sizes", "pass", []chromedp.Action{
			chromedp.SetValue(`#logcheck-sizes input[name="from"]`, "1", chromedp.ByQuery),
			chromedp.Click(`#logcheck-sizes button[type="submit"]`, chromedp.ByQuery)}},
		{"a receipt", "pass", []chromedp.Action{
			chromedp.SetValue(`#logcheck-old`, receipt, chromedp.ByID),
			chromedp.Click(`#logcheck-checkpoint button[type="submit"]`, chromedp.ByQuery)}},
		{"a forged checkpoint", "fail", []chromedp.Action{
			chromedp.SetValue(`#logcheck-old`, forged, chromedp.ByID),
			chromedp.Click(`#logcheck-checkpoint button[type="submit"]`, chromedp.ByQuery)}},
	} {
		open(t, tab, s, "/ui/log")
		run(t, tab, "starting the check with "+tc.name, tc.fill...)
		poll(t, tab, "the check's result", `['pass', 'fail'].includes(document.querySelector('#logcheck-result').dataset.result)`)
		var got, text string
		run(t, tab, "reading the result",
			chromedp.Evaluate(`document.querySelector('#logcheck-result').dataset.result`, &got),
			chromedp.Text(`#logcheck-result`, &text, chromedp.ByID))
		if got != tc.want {
			t.Errorf("the in-page check of %s: %s, want %s:\n%s", tc.name, got, tc.want, text)
		}
		tab.NoProblems(t, "/ui/log with "+tc.name)
	}
}

// flipBase64 changes the first character of a base64 line.
func flipBase64(s string) string {
	if strings.HasPrefix(s, "A") {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// signIn signs tab in with tok through the login form.
func signIn(t *testing.T, tab *chromium.Tab, s *site, tok string) {
	t.Helper()
	run(t, tab, "signing in",
		chromedp.Navigate(s.url+"/ui/login"),
		chromedp.SetValue("#token", tok, chromedp.ByID),
		chromedp.Click(`form.login button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("header .who", chromedp.ByQuery))
}

// open opens the page at path and returns its main text once loaded; it fails t for an error page.
func open(t *testing.T, tab *chromium.Tab, s *site, path string) string {
	t.Helper()
	var text string
	var errors []string
	run(t, tab, "opening "+path,
		chromedp.Navigate(s.url+path),
		chromedp.WaitReady("main", chromedp.ByQuery),
		chromedp.Text("main", &text, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('main .error')).map(e => e.textContent)`, &errors))
	if len(errors) > 0 {
		t.Fatalf("%s shows an error: %q", path, errors)
	}
	return text
}

// poll waits until the JavaScript expression is true in tab, through navigations (an evaluation in a document
// being replaced fails, and is tried again in the next one).
func poll(t *testing.T, tab *chromium.Tab, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
		err = chromedp.Run(ctx, chromedp.Evaluate(expr, &ok))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var url string
	chromedp.Run(tab.Ctx, chromedp.Location(&url))
	t.Fatalf("waiting for %s (at %s): %s is not true after %s (last error: %v); the browser reported %v", what, url, expr, wait, err, tab.Problems())
}

// run runs actions in tab, failing t with what when they fail or do not end within wait.
func run(t *testing.T, tab *chromium.Tab, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, wait)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var url string
		chromedp.Run(tab.Ctx, chromedp.Location(&url))
		t.Fatalf("%s (at %s): %v; the browser reported %v", what, url, err, tab.Problems())
	}
}

// screenshot writes the tab's whole page into docs/dashboard/name.png when the test runs with -update.
func screenshot(t *testing.T, tab *chromium.Tab, name string) {
	t.Helper()
	if !*update {
		return
	}
	var png []byte
	run(t, tab, "taking a screenshot", chromedp.FullScreenshot(&png, 100))
	path := filepath.Join("..", "..", "..", "docs", "dashboard", name+".png")
	if err := atomicfile.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// text returns the body of GET path with tok ("" for none), failing t unless it answers 200.
func (s *site) text(t *testing.T, path, tok string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", path, resp.Status, err)
	}
	return string(b)
}
