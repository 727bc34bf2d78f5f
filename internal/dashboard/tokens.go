package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenPages manage the control plane's service tokens with the signed-in
// person's token: the API answers 403 unless it holds the admin scope,
// and the page says so.
func (d *Dashboard) tokenPages() []page {
	return []page{
		{Pattern: "GET /ui/tokens", Handler: d.tokenList},
		{Pattern: "POST /ui/tokens", Handler: d.tokenCreate},
		{Pattern: "POST /ui/tokens/{id}/revoke", Handler: d.tokenRevoke},
	}
}

// Token is a service token's record, as GET /api/v1/tokens answers it;
// Secret (the API's "token") only in the answer that created it.
type Token struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Scopes  []string   `json:"scopes"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires"`
	Revoked *time.Time `json:"revoked"`
	State   string     `json:"state"`
	Secret  string     `json:"token"`
}

// tokenScopes are the scopes the form offers, in the API's order.
var tokenScopes = []string{"upload", "read", "dispatch", "admin"}

// tokenForm is the create form's values, kept when the API refuses them.
type tokenForm struct {
	Name   string
	Scopes []string
	TTL    string
}

// Has reports whether the form has scope s ticked.
func (f tokenForm) Has(s string) bool { return slices.Contains(f.Scopes, s) }

// tokensData is the data of tokens.html.
type tokensData struct {
	Tokens []Token
	// Self is the session's own token id, marked in the list.
	Self string
	// Created is the token just made, whose secret is shown this once.
	Created *Token
	Form    tokenForm
	// Scopes are the scopes the form offers.
	Scopes []string
	// Error is why the form was refused (the API's 400); NeedsAdmin says
	// the session's token lacks the admin scope (the API's 403).
	Error      string
	NeedsAdmin string
}

func (d *Dashboard) tokensData(s *session) tokensData {
	data := tokensData{Scopes: tokenScopes, Form: tokenForm{Scopes: []string{"read"}, TTL: "720h"}}
	if _, id, ok := strings.Cut(s.Identity, "/"); ok && strings.HasPrefix(s.Identity, "token:") {
		data.Self = id
	}
	return data
}

// tokenList is GET /ui/tokens: every token, and the create form.
func (d *Dashboard) tokenList(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.renderTokens(w, r, s, http.StatusOK, d.tokensData(s))
}

// renderTokens lists the tokens under data (a form refused, a token just
// made) with status; a token without the admin scope sees the API's 403
// as a page saying it needs the admin scope.
func (d *Dashboard) renderTokens(w http.ResponseWriter, r *http.Request, s *session, status int, data tokensData) error {
	var list struct {
		Tokens []Token `json:"tokens"`
	}
	err := d.client(s).JSON(r.Context(), "listing tokens", "GET", "/api/v1/tokens", nil, nil, &list)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusForbidden {
		data.NeedsAdmin = ae.Detail
		return d.renderStatus(w, r, s, http.StatusForbidden, "tokens.html", "layout.html", data)
	}
	if err != nil {
		return err
	}
	data.Tokens = list.Tokens
	return d.renderStatus(w, r, s, status, "tokens.html", "layout.html", data)
}

// tokenCreate is POST /ui/tokens: the API makes the token, and this answer
// (never a redirect, never a URL) shows its secret once; a refused form is
// shown again with the API's reason.
func (d *Dashboard) tokenCreate(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return &pageError{Status: http.StatusBadRequest, Detail: "the form could not be read; reload the page and try again"}
	}
	data := d.tokensData(s)
	data.Form = tokenForm{Name: strings.TrimSpace(r.PostForm.Get("name")), TTL: strings.TrimSpace(r.PostForm.Get("ttl"))}
	for _, sc := range r.PostForm["scope"] {
		if slices.Contains(tokenScopes, sc) && !data.Form.Has(sc) {
			data.Form.Scopes = append(data.Form.Scopes, sc)
		}
	}
	body := map[string]any{"name": data.Form.Name, "scopes": data.Form.Scopes, "ttl": data.Form.TTL}
	if data.Form.Scopes == nil {
		body["scopes"] = []string{}
	}
	var made Token
	err := d.client(s).JSON(r.Context(), "creating a token", "POST", "/api/v1/tokens", nil, body, &made)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusBadRequest {
		data.Error = ae.Detail
		return d.renderTokens(w, r, s, http.StatusBadRequest, data)
	}
	if ae := apiError(err); ae != nil && ae.Status == http.StatusForbidden {
		data.NeedsAdmin = ae.Detail
		return d.renderStatus(w, r, s, http.StatusForbidden, "tokens.html", "layout.html", data)
	}
	if err != nil {
		return err
	}
	if made.Secret == "" {
		return errors.New("creating a token: the control plane's answer holds no token")
	}
	data.Created, data.Form = &made, tokenForm{Scopes: []string{"read"}, TTL: "720h"}
	return d.renderTokens(w, r, s, http.StatusOK, data)
}

// tokenRevoke is POST /ui/tokens/{id}/revoke: the API revokes it (it stops
// working at once), then the list is shown again (303, so a reload sends
// nothing twice).
func (d *Dashboard) tokenRevoke(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.client(s).JSON(r.Context(), "revoking a token", "POST", "/api/v1/tokens/"+url.PathEscape(id)+"/revoke", nil, nil, &Token{})
	if ae := apiError(err); ae != nil && ae.Status == http.StatusForbidden {
		data := d.tokensData(s)
		data.NeedsAdmin = ae.Detail
		return d.renderStatus(w, r, s, http.StatusForbidden, "tokens.html", "layout.html", data)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/tokens", http.StatusSeeOther)
	return nil
}
