package chromium

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTab: a real Chromium loads pages under a strict Content-Security-Policy; a clean page leaves no problem,
// and each kind of fault is recorded as its kind: an inline script the policy blocks, an uncaught exception, a
// console error, a missing resource; a cookie one tab got is not sent by another.
func TestTab(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src 'self' data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><html><head><link rel="icon" href="data:,"><title>t</title></head><body>` + body + `</body></html>`))
		}
	}
	js := func(src string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(src))
		}
	}
	mux.HandleFunc("/clean", page(`<p id="p">ok</p><script src="/ok.js"></script>`))
	mux.HandleFunc("/ok.js", js(`document.getElementById('p').textContent = 'ran';`))
	mux.HandleFunc("/inline", page(`<script>document.title = 'x'</script>`))
	mux.HandleFunc("/throws", page(`<script src="/throw.js"></script>`))
	mux.HandleFunc("/throw.js", js(`throw new Error('boom-uncaught');`))
	mux.HandleFunc("/console", page(`<script src="/console.js"></script>`))
	mux.HandleFunc("/console.js", js(`console.error('boom-console');`))
	mux.HandleFunc("/missing", page(`<script src="/nope.js"></script>`))
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		page(`<p>set</p>`)(w, r)
	})
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("who")
		if err != nil {
			c = &http.Cookie{Value: "none"}
		}
		page(c.Value)(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := Start(t)
	t.Run("own cookies", func(t *testing.T) {
		first, second := b.Tab(t), b.Tab(t)
		var a, c string
		if err := chromedp.Run(first.Ctx, chromedp.Navigate(srv.URL+"/set"), chromedp.Navigate(srv.URL+"/cookie"), chromedp.Evaluate(`document.body.textContent`, &a)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Run(second.Ctx, chromedp.Navigate(srv.URL+"/cookie"), chromedp.Evaluate(`document.body.textContent`, &c)); err != nil {
			t.Fatal(err)
		}
		if a != "first" || c != "none" {
			t.Errorf("cookies: the first tab sees %q (want first), the second %q (want none)", a, c)
		}
	})
	for _, tc := range []struct {
		path, kind, text string // kind "": no problem
	}{
		{"/clean", "", ""},
		{"/inline", "csp", "script-src"},
		{"/throws", "exception", "boom-uncaught"},
		{"/console", "console", "boom-console"},
		{"/missing", "log", "404"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			t.Parallel()
			tab := b.Tab(t)
			var text string
			if err := chromedp.Run(tab.Ctx, chromedp.Navigate(srv.URL+tc.path), chromedp.Evaluate(`document.body.textContent`, &text)); err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if text != "ran" {
					t.Errorf("the page's own script did not run: body %q", text)
				}
				tab.NoProblems(t, tc.path)
				return
			}
			// A script's fault reaches the browser's events after the load; wait for it on the page's side.
			var found bool
			for range 200 { // up to 10 s
				for _, p := range tab.Problems() {
					if p.Kind == tc.kind && strings.Contains(p.Text, tc.text) {
						found = true
					}
				}
				if found {
					break
				}
				chromedp.Run(tab.Ctx, chromedp.Sleep(50e6))
			}
			if !found {
				t.Errorf("no %s problem with %q recorded", tc.kind, tc.text)
			}
		})
	}
}
