package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/token"
)

// listed is the JSON of GET /api/v1/releases.
type listed struct {
	Releases []struct {
		ReleaseID        string    `json:"releaseId"`
		ManifestDigest   string    `json:"manifestDigest"`
		SourceRepository string    `json:"sourceRepository"`
		Created          time.Time `json:"created"`
	} `json:"releases"`
	Next string `json:"next"`
}

func (l listed) ids() string {
	var out []string
	for _, r := range l.Releases {
		out = append(out, r.ReleaseID)
	}
	return strings.Join(out, ",")
}

func list(t *testing.T, base, tok, query string) (int, listed, []byte, http.Header) {
	t.Helper()
	code, body, hdr := do(t, "GET", base+"/api/v1/releases"+query, tok, nil)
	var l listed
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatalf("GET %s: %v: %s", query, err, body)
		}
	}
	return code, l, body, hdr
}

// readSite admits three releases, app (of acme/app), lib (of acme/lib)
// and app2 (acme/app again), in that order, and returns their admission
// answers, the directories they were made in and a read token.
func readSite(t *testing.T) (*site, []admission, []string, string) {
	t.Helper()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	up := site.token(t, "ci", token.Upload)
	var answers []admission
	var dirs []string
	for _, r := range []struct{ content, source string }{{"app 1", testSource}, {"lib 1", "git+https://github.com/acme/lib"}, {"app 2", testSource}} {
		dir := t.TempDir()
		s.release(t, dir, []byte(r.content), testBuilder, r.source)
		code, a := admit(t, site.url, up, uploadAll(t, site.url, up, dir))
		if code != http.StatusCreated {
			t.Fatalf("admission of %q: %d %+v", r.content, code, a)
		}
		answers, dirs = append(answers, a), append(dirs, dir)
		time.Sleep(2 * time.Millisecond) // distinct creation times (milliseconds)
	}
	return site, answers, dirs, site.token(t, "reader", token.Read)
}

func TestListReleases(t *testing.T) {
	t.Parallel()
	site, a, dirs, tok := readSite(t)
	app, lib, app2 := a[0].ReleaseID, a[1].ReleaseID, a[2].ReleaseID
	_, all, _, _ := list(t, site.url, tok, "")
	if all.ids() != strings.Join([]string{app2, lib, app}, ",") || all.Next != "" {
		t.Fatalf("list = %s next %q, want newest first and no next page", all.ids(), all.Next)
	}
	libCreated := all.Releases[1].Created.Format(time.RFC3339Nano)
	sig := sha256.Sum256(readFile(t, dirs[2], "app.bin.sigstore.json"))
	for _, tc := range []struct{ name, query, want string }{
		{"repository short", "?repository=github.com/acme/app", app2 + "," + app},
		{"repository URI", "?repository=" + url.QueryEscape("git+https://github.com/acme/lib.git"), lib},
		{"repository unknown", "?repository=github.com/acme/none", ""},
		{"artifact digest", "?digest=" + a[1].Artifacts[0].Digest, lib},
		{"bundle digest", "?digest=" + fmt.Sprintf("sha256:%x", sig), app2},
		{"manifest digest", "?digest=" + a[0].Manifest, app},
		{"since", "?since=" + url.QueryEscape(libCreated), app2 + "," + lib},
		{"until", "?until=" + url.QueryEscape(libCreated), app},
		{"repository and since", "?repository=github.com/acme/app&since=" + url.QueryEscape(libCreated), app2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, l, body, _ := list(t, site.url, tok, tc.query)
			if code != http.StatusOK || l.ids() != tc.want {
				t.Errorf("GET %s: %d %s, want %s", tc.query, code, body, tc.want)
			}
		})
	}
	// Pages of one, following the next links (body and Link header agree).
	var seen []string
	next := "/api/v1/releases?limit=1&repository=github.com/acme/app"
	for next != "" {
		code, body, hdr := do(t, "GET", site.url+next, tok, nil)
		var l listed
		if code != http.StatusOK || json.Unmarshal(body, &l) != nil {
			t.Fatalf("GET %s: %d %s", next, code, body)
		}
		if l.Next != "" && hdr.Get("Link") != "<"+l.Next+`>; rel="next"` {
			t.Errorf("Link %q, next %q", hdr.Get("Link"), l.Next)
		}
		if l.Next != "" && !strings.Contains(l.Next, "repository=") {
			t.Errorf("next link %q lost the filter", l.Next)
		}
		seen = append(seen, l.ids())
		next = l.Next
	}
	if strings.Join(seen, ",") != app2+","+app {
		t.Errorf("pages %q, want %s then %s", seen, app2, app)
	}
	if code, _, _, _ := list(t, site.url, "", ""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	if code, _, _, _ := list(t, site.url, site.token(t, "up", token.Upload), ""); code != http.StatusForbidden {
		t.Errorf("with an upload token: %d", code)
	}
}

// TestListReleasesBadQuery: every bad parameter is a 400 naming it and
// the form it takes.
func TestListReleasesBadQuery(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	tok := site.token(t, "reader", token.Read)
	for _, tc := range []struct{ query, param, hint string }{
		{"?repository=" + url.QueryEscape("https://github.com@evil.example/o/r"), "repository", "github.com/owner/repo"},
		{"?repository=github.com/o/../r", "repository", "github.com/owner/repo"},
		{"?digest=sha256:zz", "digest", "64 hex"},
		{"?digest=md5:00", "digest", "64 hex"},
		{"?since=yesterday", "since", "RFC 3339"},
		{"?since=2026-12-05T00:00:00+01:00", "since", "%2B"},
		{"?since=2026-12-05T00:00:00Z&until=2026-12-04T00:00:00Z", "until", "later than since"},
		{"?limit=0", "limit", "1 to 100"},
		{"?limit=101", "limit", "1 to 100"},
		{"?limit=ten", "limit", "1 to 100"},
		{"?page_token=AAAA", "page_token", "next link"},
		{"?page_token=" + "MS4xLnItMTIz", "page_token", "next link"},
		{"?offset=20", "offset", "page_token"},
		{"?digest=sha256:" + strings.Repeat("a", 64) + "&digest=sha256:" + strings.Repeat("b", 64), "digest", "once"},
	} {
		t.Run(tc.param, func(t *testing.T) {
			code, _, body, _ := list(t, site.url, tok, tc.query)
			var p struct{ Type, Detail, Check string }
			json.Unmarshal(body, &p)
			if code != http.StatusBadRequest || p.Check != tc.param || !strings.Contains(p.Detail, `"`+tc.param+`"`) || !strings.Contains(p.Detail, tc.hint) {
				t.Errorf("GET %s: %d %s; want 400 naming %q with %q", tc.query, code, body, tc.param, tc.hint)
			}
		})
	}
}

// TestReleaseFiles: the admitted manifest (whose digest is the release's)
// and every record's file can be read back, files with Range.
func TestReleaseFiles(t *testing.T) {
	t.Parallel()
	site, a, dirs, tok := readSite(t)
	rel := a[0]
	base := site.url + "/api/v1/releases/" + rel.ReleaseID
	code, raw, hdr := do(t, "GET", base+"/manifest", tok, nil)
	if code != http.StatusOK || fmt.Sprintf("sha256:%x", sha256.Sum256(raw)) != rel.Manifest || hdr.Get("ETag") != `"`+rel.Manifest+`"` {
		t.Fatalf("GET manifest: %d %s (want digest %s)", code, raw, rel.Manifest)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest")
	if err != nil || len(m.Records) != 3 {
		t.Fatalf("manifest: %v %+v", err, m)
	}
	code, body, _ := do(t, "GET", base+"/files", tok, nil)
	var files struct {
		Files []struct{ Role, Name, Path, Digest, MediaType, Describes string }
	}
	if code != http.StatusOK || json.Unmarshal(body, &files) != nil || len(files.Files) != 3 {
		t.Fatalf("GET files: %d %s", code, body)
	}
	for i, f := range files.Files {
		rec := m.Records[i]
		if f.Role != string(rec.Role) || f.Name != rec.Name || f.Path != rec.Path || f.Digest != rec.Digest.String() {
			t.Errorf("file %d = %+v, want the manifest's record %+v", i, f, rec)
		}
		code, content, hdr := do(t, "GET", base+"/files/"+f.Path, tok, nil)
		if code != http.StatusOK || !bytes.Equal(content, readFile(t, dirs[0], f.Path)) || hdr.Get("Content-Type") != f.MediaType {
			t.Errorf("GET files/%s: %d, %d bytes, type %q", f.Path, code, len(content), hdr.Get("Content-Type"))
		}
	}
	req, _ := http.NewRequest("GET", base+"/files/app.bin", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Range", "bytes=1-3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 16)
	n, _ := resp.Body.Read(part)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(part[:n]) != "pp " {
		t.Errorf("Range: %d %q, want 206 %q", resp.StatusCode, part[:n], "pp ")
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/files/nope.bin", http.StatusNotFound},
		{"/files/app.bin/x", http.StatusNotFound},
	} {
		if code, body, _ := do(t, "GET", base+tc.path, tok, nil); code != tc.status {
			t.Errorf("GET %s: %d %s, want %d", tc.path, code, body, tc.status)
		}
	}
	if code, _, _ := do(t, "GET", site.url+"/api/v1/releases/r-0000000000000000/files", tok, nil); code != http.StatusNotFound {
		t.Errorf("files of an unknown release: %d", code)
	}
	if code, _, _ := do(t, "GET", base+"/manifest", site.token(t, "up", token.Upload), nil); code != http.StatusForbidden {
		t.Errorf("manifest with an upload token: %d", code)
	}
}

func readFile(t *testing.T, dir, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
