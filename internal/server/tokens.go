package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// TokenAdmin makes, lists and revokes service tokens: a *token.Manager,
// the one place tokens are generated and hashed (slipway token create
// uses it too).
type TokenAdmin interface {
	Create(ctx context.Context, o token.CreateOptions) (string, store.Token, error)
	List(ctx context.Context) ([]store.Token, error)
	Revoke(ctx context.Context, id string) error
}

// tokenRoutes manage service tokens over the API (scope admin): what
// slipway token create, list and revoke do on the data directory, for the
// dashboard. Served when Config.Tokens is set, or Config.Auth is a
// TokenAdmin (a *token.Manager).
func (s *Server) tokenRoutes() []Route {
	admin := s.cfg.Tokens
	if admin == nil {
		admin, _ = s.cfg.Auth.(TokenAdmin)
	}
	if admin == nil {
		return nil
	}
	t := &tokenAPI{s: s, admin: admin}
	return []Route{
		{Pattern: "GET /api/v1/tokens", Scope: token.Admin, Handler: t.list},
		{Pattern: "POST /api/v1/tokens", Scope: token.Admin, Handler: t.create},
		{Pattern: "POST /api/v1/tokens/{id}/revoke", Scope: token.Admin, Handler: t.revoke},
	}
}

type tokenAPI struct {
	s     *Server
	admin TokenAdmin
}

// tokenAnswer is a token's record as the API shows it: never its hash.
type tokenAnswer struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Scopes  []string   `json:"scopes"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked *time.Time `json:"revoked,omitempty"`
	// State is active, expired or revoked, now.
	State string `json:"state"`
	// Token is the whole token, in the answer that created it only.
	Token string `json:"token,omitempty"`
}

func tokenAnswerOf(t store.Token, now time.Time) tokenAnswer {
	a := tokenAnswer{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Created: t.Created.UTC(), State: "active"}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
	if !t.Expires.IsZero() {
		e := t.Expires.UTC()
		a.Expires = &e
		if !now.Before(e) {
			a.State = "expired"
		}
	}
	if !t.Revoked.IsZero() {
		r := t.Revoked.UTC()
		a.Revoked, a.State = &r, "revoked"
	}
	return a
}

// tokenList is the JSON of GET /api/v1/tokens.
type tokenList struct {
	Tokens []tokenAnswer `json:"tokens"`
}

// list is GET /api/v1/tokens: every token, oldest first.
func (t *tokenAPI) list(w http.ResponseWriter, r *http.Request) error {
	all, err := t.admin.List(r.Context())
	if err != nil {
		return err
	}
	now := t.s.now()
	out := tokenList{Tokens: make([]tokenAnswer, len(all))}
	for i, tok := range all {
		out.Tokens[i] = tokenAnswerOf(tok, now)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// createTokenRequest is the body of POST /api/v1/tokens.
type createTokenRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// TTL is a Go duration ("720h"); "" for no expiry.
	TTL string `json:"ttl"`
}

// badToken is a 400 naming the field of a token request that is wrong.
func badToken(field, format string, a ...any) error {
	return &Problem{Status: http.StatusBadRequest, Type: "bad-token-request", Title: "Not a token request", Check: field,
		Detail: fmt.Sprintf("field %q ", field) + fmt.Sprintf(format, a...)}
}

// options checks the request as slipway token create checks its flags.
func (req createTokenRequest) options() (token.CreateOptions, error) {
	var o token.CreateOptions
	if err := token.CheckName(req.Name); err != nil {
		return o, badToken("name", "%v", err)
	}
	if len(req.Scopes) == 0 {
		return o, badToken("scopes", "is empty; give some of %q", token.Scopes)
	}
	scopes, err := token.ParseScopes(req.Scopes)
	if err != nil {
		return o, badToken("scopes", "%v", err)
	}
	o.Name, o.Scopes = req.Name, scopes
	if req.TTL != "" {
		if o.TTL, err = time.ParseDuration(req.TTL); err != nil || o.TTL <= 0 {
			return o, badToken("ttl", "is %q; give a positive duration such as \"720h\" (30 days), or \"\" for no expiry", truncate(req.TTL, 64))
		}
	}
	return o, nil
}

// create is POST /api/v1/tokens: a new token, whose whole value the 201
// answer holds once (the server keeps only its Argon2id hash); the log
// names the admin who made it, never the value.
func (t *tokenAPI) create(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req createTokenRequest
	if err := decodeBody(w, r, &req, maxTokenBody, "bad-token-request", "Not a token request"); err != nil {
		return err
	}
	o, err := req.options()
	if err != nil {
		return err
	}
	secret, rec, err := t.admin.Create(context.WithoutCancel(ctx), o)
	if err != nil {
		return fmt.Errorf("creating a token: %w", err)
	}
	_, who := callerOf(ctx)
	t.s.log.Info("token created", "request_id", requestID(ctx), "token_id", rec.ID, "name", rec.Name,
		"scopes", strings.Join(rec.Scopes, ","), "expires", stampOf(rec.Expires), "identity", who)
	a := tokenAnswerOf(rec, t.s.now())
	a.Token = secret
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, a)
}

// revoke is POST /api/v1/tokens/{id}/revoke: the token stops working at
// once (every request reads its row). Revoking it again answers the same
// record with the first revocation time.
func (t *tokenAPI) revoke(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	notFound := &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such token",
		Detail: fmt.Sprintf("no token has ID %q; GET /api/v1/tokens lists them", truncate(id, 64))}
	if !token.ValidID(id) {
		return notFound
	}
	err := t.admin.Revoke(context.WithoutCancel(ctx), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("revoking token %q: %w", id, err)
	}
	all, err := t.admin.List(ctx)
	if err != nil {
		return err
	}
	for _, tok := range all {
		if tok.ID == id {
			_, who := callerOf(ctx)
			t.s.log.Info("token revoked", "request_id", requestID(ctx), "token_id", id, "name", tok.Name,
				"revoked", stampOf(tok.Revoked), "identity", who)
			return writeJSON(w, http.StatusOK, tokenAnswerOf(tok, t.s.now()))
		}
	}
	return fmt.Errorf("token %q was revoked but is no longer listed", id)
}

// maxTokenBody bounds the body of POST /api/v1/tokens.
const maxTokenBody = 16 << 10

// stampOf is t in RFC 3339, or "never" for the zero time.
func stampOf(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
