package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/slipway/actions/internal/cpclient"
)

// loginData is the data of login.html.
type loginData struct {
	Next  string
	Error string
}

// loginForm is GET /ui/login: the form a person pastes a token into.
func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := d.render(w, r, nil, "login.html", loginData{Next: localNext(r.URL.Query().Get("next"))}); err != nil {
		d.fail(w, r, err)
	}
}

// identity is GET /api/v1/identity's answer.
type identity struct {
	Identity string   `json:"identity"`
	Scopes   []string `json:"scopes"`
	// Expires is when the token stops working; nil for never.
	Expires *time.Time `json:"expires"`
}

// login is POST /ui/login: the token is checked with GET /api/v1/identity
// and, when the control plane knows it, sealed into a new session with a
// fresh CSRF secret. The token is never echoed back, logged or put in a
// URL. (Cross-origin posts are refused before this by
// http.CrossOriginProtection, which stops login CSRF.)
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	next := localNext(r.PostFormValue("next"))
	refuse := func(status int, msg string) {
		if err := d.renderStatus(w, r, nil, status, "login.html", "layout.html", loginData{Next: next, Error: msg}); err != nil {
			d.fail(w, r, err)
		}
	}
	if tok == "" {
		refuse(http.StatusBadRequest, "paste a token: slipway token create --scope read prints one")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var id identity
	err := cpclient.New(d.o.Server, tok, d.o.HTTP).JSON(ctx, "checking the token", "GET", "/api/v1/identity", nil, nil, &id)
	var ae *cpclient.Error
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		refuse(http.StatusUnauthorized, "the control plane does not accept this token (unknown, revoked or expired); create one with slipway token create --scope read")
		return
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		refuse(http.StatusForbidden, "this token cannot read releases: "+ae.Detail)
		return
	case err != nil:
		d.o.Log.Warn("dashboard: checking a token at sign-in failed", "err", err.Error())
		refuse(http.StatusBadGateway, "the control plane could not check the token; try again, and see the server's log if it persists")
		return
	}
	// A session lasts SessionTTL, and never past the token's own expiry.
	exp := d.now().Add(SessionTTL)
	if id.Expires != nil && id.Expires.Before(exp) {
		exp = *id.Expires
	}
	s := &session{Token: tok, Identity: id.Identity, Scopes: id.Scopes, CSRF: newCSRF(), Expires: exp}
	if err := d.setSession(w, s); err != nil {
		refuse(http.StatusBadRequest, err.Error())
		return
	}
	d.o.Log.Info("dashboard: signed in", "identity", id.Identity)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout is POST /ui/logout: the cookie is dropped. (The token itself
// stays valid until revoked: revoke it on the tokens page or with slipway
// token revoke to end it everywhere.)
func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	d.clearSession(w)
	d.o.Log.Info("dashboard: signed out", "identity", s.Identity)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return nil
}

// localNext is where to go after signing in: a dashboard path of this
// host, never another site (an open redirect); /ui/ otherwise.
func localNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return "/ui/"
	}
	return next
}
