package dashboard_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

// TestRejectionsPage: refused uploads are listed newest first in keyset
// pages with the failed check, subject and detail, each linking to its
// log entry, which shows the failed check; the time search narrows the
// list (the repository search is the same code; a release refused for its
// signature has no verified repository); a bad time is refused on the page
// with what to give.
func TestRejectionsPage(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	app := site.Reject(t, []byte("app 2"), "git+https://github.com/acme/app")
	between := time.Now().UTC().Truncate(time.Second).Add(time.Second) // the form takes whole seconds
	time.Sleep(time.Until(between))
	lib := site.Reject(t, []byte("lib 1"), "git+https://github.com/acme/lib")
	if app.Check != "signature" || app.ReleaseID == "" {
		t.Fatalf("the refusal: %+v", app)
	}
	u := startUI(t, site, testKey, 1)
	u.login(t, site.Token(t, "person", 0, token.Read))

	code, body, _ := u.get(t, "/ui/rejections")
	page := html.UnescapeString(body)
	for _, want := range []string{lib.ReleaseID, "rejected", `<td class="fail">signature</td>`, lib.Subject, lib.Detail,
		fmt.Sprintf(`<a href="/ui/log/entries/%d">`, lib.LogIndex), "none verified"} {
		if !strings.Contains(page, want) {
			t.Errorf("/ui/rejections lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(page, app.ReleaseID) || inlineCode.MatchString(body) {
		t.Fatalf("/ui/rejections, first page of 1: %d\n%s", code, body)
	}
	next := nextLink.FindStringSubmatch(body)
	if next == nil {
		t.Fatalf("/ui/rejections has no next page link:\n%s", body)
	}
	code, body, _ = u.get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
	if code != http.StatusOK || !strings.Contains(body, app.ReleaseID) || strings.Contains(body, lib.ReleaseID) || nextLink.MatchString(body) {
		t.Fatalf("/ui/rejections, second page: %d\n%s", code, body)
	}
	code, body, _ = u.get(t, "/ui/rejections?until="+url.QueryEscape(between.Format(time.RFC3339)))
	if code != http.StatusOK || !strings.Contains(body, app.ReleaseID) || strings.Contains(body, lib.ReleaseID) {
		t.Fatalf("/ui/rejections until between the two: %d\n%s", code, body)
	}
	code, body, _ = u.get(t, "/ui/rejections?repository=github.com%2Facme%2Fapp")
	if code != http.StatusOK || strings.Contains(body, lib.ReleaseID) || strings.Contains(body, app.ReleaseID) {
		t.Fatalf("/ui/rejections of acme/app (none verified): %d\n%s", code, body)
	}
	code, body, _ = u.get(t, "/ui/rejections?since=yesterday")
	if code != http.StatusBadRequest || !strings.Contains(body, "is not a time") || !strings.Contains(body, `value="yesterday"`) {
		t.Fatalf("/ui/rejections with a bad time: %d\n%s", code, body)
	}
	code, body, _ = u.get(t, fmt.Sprintf("/ui/log/entries/%d", app.LogIndex))
	if code != http.StatusOK || !strings.Contains(body, "release-rejected") || !strings.Contains(body, `<td class="fail">signature</td>`) {
		t.Fatalf("the rejection's log entry: %d\n%s", code, body)
	}
}
