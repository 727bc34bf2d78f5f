package ghreport

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/ghclient"
)

// DefaultLabels label the issues the reporter opens and find them again.
var DefaultLabels = []string{"slipway", "pipeline-failure"}

// maxPages bounds the open issues looked through (100 a page).
const maxPages = 50

// Options say where to report and with what.
type Options struct {
	Client *ghclient.Client
	// Labels are put on every issue opened, and an issue is found again
	// only if it has them all (DefaultLabels when empty).
	Labels []string
	// Masker hides secrets in everything sent (nil: patterns only).
	Masker *Masker
	Log    *slog.Logger
}

// Action is what Report did.
type Action string

// The actions Report takes.
const (
	Opened    Action = "opened"    // a new issue
	Commented Action = "commented" // on the open issue of the same fingerprint
	Closed    Action = "closed"    // the stage passed: its open issues closed
	Nothing   Action = "none"      // the stage passed and had no open issue
)

// Outcome is what Report did, to which issues.
type Outcome struct {
	Action Action
	Issues []IssueRef
}

// IssueRef names an issue.
type IssueRef struct {
	Number int
	URL    string
}

// Report files e: a failure comments on the open issue with its
// fingerprint or opens one; a success closes, with a comment, every open
// issue of its stage.
func Report(ctx context.Context, o Options, e Event) (*Outcome, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	owner, repo, err := ghclient.SplitRepository(e.Repository)
	if err != nil {
		return nil, err
	}
	if len(o.Labels) == 0 {
		o.Labels = DefaultLabels
	}
	if o.Masker == nil {
		o.Masker = NewMasker()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	open, err := openIssues(ctx, o, owner, repo)
	if err != nil {
		return nil, err
	}
	c := o.Client
	if e.Status == Success {
		out := &Outcome{Action: Nothing}
		for _, is := range open {
			if _, stage, _ := parseMarker(is.GetBody()); stage != e.StageKey() {
				continue
			}
			n := is.GetNumber()
			if err := comment(ctx, o, owner, repo, n, ClosingBody(e)); err != nil {
				return out, err
			}
			err := c.Do(ctx, fmt.Sprintf("closing issue #%d", n), true, func(ctx context.Context) (*github.Response, error) {
				_, resp, err := c.Issues.Edit(ctx, owner, repo, n, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("completed")})
				return resp, err
			})
			if err != nil {
				return out, err
			}
			o.Log.Info("closed the issue of a stage that passed again", "issue", n, "stage", e.Stage)
			out.Action = Closed
			out.Issues = append(out.Issues, IssueRef{Number: n, URL: is.GetHTMLURL()})
		}
		return out, nil
	}
	for _, is := range open {
		if fp, _, _ := parseMarker(is.GetBody()); fp == e.Fingerprint() {
			n := is.GetNumber()
			if err := comment(ctx, o, owner, repo, n, CommentBody(e)); err != nil {
				return nil, err
			}
			o.Log.Info("the same failure again: commented", "issue", n, "fingerprint", e.Fingerprint())
			return &Outcome{Action: Commented, Issues: []IssueRef{{Number: n, URL: is.GetHTMLURL()}}}, nil
		}
	}
	req := &github.IssueRequest{Title: github.String(o.Masker.Mask(Title(e))), Body: github.String(o.Masker.Mask(IssueBody(e))), Labels: &o.Labels}
	var created *github.Issue
	// Not idempotent: retried only on a rate limit, which did nothing.
	err = c.Do(ctx, "opening an issue", false, func(ctx context.Context) (*github.Response, error) {
		var resp *github.Response
		created, resp, err = c.Issues.Create(ctx, owner, repo, req)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	o.Log.Info("opened an issue", "issue", created.GetNumber(), "fingerprint", e.Fingerprint())
	return &Outcome{Action: Opened, Issues: []IssueRef{{Number: created.GetNumber(), URL: created.GetHTMLURL()}}}, nil
}

// openIssues lists the open issues with every label (pull requests left
// out), following the pages.
func openIssues(ctx context.Context, o Options, owner, repo string) ([]*github.Issue, error) {
	var all []*github.Issue
	opts := &github.IssueListByRepoOptions{State: "open", Labels: o.Labels, ListOptions: github.ListOptions{PerPage: 100}}
	for page := 1; page <= maxPages; page++ {
		var got []*github.Issue
		var resp *github.Response
		err := o.Client.Do(ctx, fmt.Sprintf("listing open issues of %s/%s (page %d)", owner, repo, page), true, func(ctx context.Context) (*github.Response, error) {
			var err error
			got, resp, err = o.Client.Issues.ListByRepo(ctx, owner, repo, opts)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, is := range got {
			if !is.IsPullRequest() {
				all = append(all, is)
			}
		}
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("listing open issues of %s/%s: more than %d pages with labels %v; close old ones or choose other labels", owner, repo, maxPages, o.Labels)
}

func comment(ctx context.Context, o Options, owner, repo string, n int, body string) error {
	c := o.Client
	body = o.Masker.Mask(body)
	return c.Do(ctx, fmt.Sprintf("commenting on issue #%d", n), false, func(ctx context.Context) (*github.Response, error) {
		_, resp, err := c.Issues.CreateComment(ctx, owner, repo, n, &github.IssueComment{Body: &body})
		return resp, err
	})
}
