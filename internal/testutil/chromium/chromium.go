package chromium

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/slipway/actions/internal/testutil/tools"
)

// ExecPath is where Debian's chromium package installs the browser.
const ExecPath = "/usr/bin/chromium"

// Browser is one running headless Chromium.
type Browser struct {
	ctx context.Context // the browser's first tab; new tabs are its children
}

// Start starts a headless Chromium for t, closed when t ends. It skips t when the browser is missing, or fails
// it under SLIPWAY_REQUIRE_TOOLS=1.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := ExecPath
	if _, err := exec.LookPath(path); err != nil {
		tools.Unavailable(t, fmt.Sprintf("no headless browser: %s is missing (Debian package chromium)", path))
		return nil
	}
	// The profile is removed after the browser ended, and again while its
	// last helper processes finish writing into it (t.TempDir's one
	// RemoveAll failed on a profile still being written: "directory not
	// empty").
	profile, err := os.MkdirTemp("", "slipway-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to start as root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		for i := 0; ; i++ {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if i == 50 {
				t.Errorf("removing the browser's profile: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first Run starts the browser, for as long as ctx lives (a shorter context would end it).
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Problem is something the browser reported as going wrong in a tab.
type Problem struct {
	Kind string // "console", "exception", "csp" or "log"
	Text string
	URL  string
}

func (p Problem) String() string {
	if p.URL == "" {
		return p.Kind + ": " + p.Text
	}
	return fmt.Sprintf("%s: %s (%s)", p.Kind, p.Text, p.URL)
}

// Tab is one browser tab; Ctx runs chromedp actions in it.
type Tab struct {
	Ctx context.Context

	mu       sync.Mutex
	problems []Problem
}

// cspListener turns every Content-Security-Policy violation into a console error that names the directive (the
// browser's own report reaches the log too; this one names what was blocked). DevTools adds it to every document
// before the page's own scripts, outside the page's policy.
const cspListener = `document.addEventListener('securitypolicyviolation', function (e) {
	console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`

// Tab opens a new tab in a browser context of its own (its own cookies and storage: a person of its own, signed in
// or not independently of other tabs) that records problems from its first page on; it is closed when t ends.
func (b *Browser) Tab(t testing.TB) *Tab {
	t.Helper()
	// chromedp's WithNewBrowserContext creates its target without a window, which headless Chromium refuses ("no
	// browser is open"): the browser context and its window are created here, and chromedp attaches to the tab.
	var bcID cdp.BrowserContextID
	var tid target.ID
	err := chromedp.Run(b.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		browser := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		var err error
		if bcID, err = target.CreateBrowserContext().WithDisposeOnDetach(true).Do(browser); err != nil {
			return err
		}
		tid, err = target.CreateTarget("about:blank").WithBrowserContextID(bcID).WithNewWindow(true).Do(browser)
		return err
	}))
	if err != nil {
		t.Fatalf("opening a browser tab: %v", err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
	t.Cleanup(func() {
		cancel()
		chromedp.Run(b.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			return target.DisposeBrowserContext(bcID).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}))
	})
	tab := &Tab{Ctx: ctx}
	chromedp.ListenTarget(ctx, tab.record)
	err = chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(cspListener).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatalf("opening a browser tab: %v", err)
	}
	return tab
}

func (tab *Tab) record(ev any) {
	var p Problem
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.APITypeError && ev.Type != runtime.APITypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, strings.Trim(string(a.Value), `"`))
			} else {
				args = append(args, a.Description)
			}
		}
		p = Problem{Kind: "console", Text: strings.Join(args, " ")}
		if strings.HasPrefix(p.Text, "CSP violation: ") {
			p.Kind = "csp"
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = Problem{Kind: "exception", Text: d.Text, URL: d.URL}
		if d.Exception != nil && d.Exception.Description != "" {
			p.Text += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.LevelError {
			return
		}
		p = Problem{Kind: "log", Text: string(ev.Entry.Source) + ": " + ev.Entry.Text, URL: ev.Entry.URL}
	default:
		return
	}
	tab.mu.Lock()
	tab.problems = append(tab.problems, p)
	tab.mu.Unlock()
}

// Problems returns what the tab recorded so far and forgets it.
func (tab *Tab) Problems() []Problem {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	p := tab.problems
	tab.problems = nil
	return p
}

// NoProblems fails t with every problem the tab recorded since the last call, saying where (what, usually the
// page's URL).
func (tab *Tab) NoProblems(t testing.TB, where string) {
	t.Helper()
	for _, p := range tab.Problems() {
		t.Errorf("%s: the browser reported %s", where, p)
	}
}
