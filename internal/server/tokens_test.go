package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/token"
)

type tokenRecord struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
	Expires string   `json:"expires"`
	Revoked string   `json:"revoked"`
	State   string   `json:"state"`
	Token   string   `json:"token"`
}

// TestTokenAPI: an admin lists, creates and revokes tokens over the API;
// a read token gets 403 for each; the created value works at once and is
// refused (401) as soon as it is revoked; bad bodies are 400s naming the
// field; no log line holds a token's value or hash.
func TestTokenAPI(t *testing.T) {
	t.Parallel()
	logs := &logbuf.Buffer{}
	site := startSite(t, newSigner(t).writePolicy(t, t.TempDir(), ""), func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(logs, nil))
	})
	admin := site.token(t, "admin", token.Admin)
	reader := site.token(t, "reader", token.Read)
	u := site.url + "/api/v1/tokens"

	for _, c := range []struct{ method, url string }{{"GET", u}, {"POST", u}, {"POST", u + "/aaaaaaaaaaaaaaaa/revoke"}} {
		if code, body, _ := do(t, c.method, c.url, reader, []byte(`{"name":"x","scopes":["read"]}`)); code != http.StatusForbidden {
			t.Errorf("%s %s with a read token: %d %s, want 403", c.method, c.url, code, body)
		}
	}

	for _, c := range []struct{ name, body, check string }{
		{"no name", `{"name":"","scopes":["read"]}`, "name"},
		{"a control character", `{"name":"a\u0007b","scopes":["read"]}`, "name"},
		{"a long name", `{"name":"` + strings.Repeat("n", 129) + `","scopes":["read"]}`, "name"},
		{"no scopes", `{"name":"ci","scopes":[]}`, "scopes"},
		{"an unknown scope", `{"name":"ci","scopes":["root"]}`, "scopes"},
		{"a negative ttl", `{"name":"ci","scopes":["read"],"ttl":"-1h"}`, "ttl"},
		{"a ttl that is no duration", `{"name":"ci","scopes":["read"],"ttl":"30 days"}`, "ttl"},
		{"an unknown field", `{"name":"ci","scopes":["read"],"hash":"x"}`, ""},
		{"not JSON", `name=ci`, ""},
	} {
		code, body, _ := do(t, "POST", u, admin, []byte(c.body))
		var p struct{ Type, Check, Detail string }
		json.Unmarshal(body, &p)
		if code != http.StatusBadRequest || p.Type != server.ProblemTypePrefix+"bad-token-request" || p.Check != c.check ||
			(c.check != "" && !strings.HasPrefix(p.Detail, `field "`+c.check+`" `)) {
			t.Errorf("%s: %d %s, want a 400 bad-token-request naming %q", c.name, code, body, c.check)
		}
	}

	code, body, _ := do(t, "POST", u, admin, []byte(`{"name":"dashboard user","scopes":["read","upload","read"],"ttl":"720h"}`))
	var made tokenRecord
	if err := json.Unmarshal(body, &made); err != nil || code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	if made.Name != "dashboard user" || strings.Join(made.Scopes, ",") != "upload,read" || made.Expires == "" || made.State != "active" ||
		!strings.HasPrefix(made.Token, token.Prefix+made.ID+"_") {
		t.Errorf("created %+v", made)
	}
	if code, body, _ := do(t, "GET", site.url+"/api/v1/identity", made.Token, nil); code != http.StatusOK || !strings.Contains(string(body), "token:dashboard user/"+made.ID) {
		t.Errorf("the new token: %d %s", code, body)
	}

	code, body, _ = do(t, "GET", u, admin, nil)
	var listed struct{ Tokens []tokenRecord }
	if err := json.Unmarshal(body, &listed); err != nil || code != http.StatusOK || len(listed.Tokens) != 3 {
		t.Fatalf("list: %d %s", code, body)
	}
	if listed.Tokens[2].ID != made.ID || listed.Tokens[2].Token != "" || strings.Contains(string(body), "argon2") {
		t.Errorf("list shows %s", body)
	}

	revoke := u + "/" + made.ID + "/revoke"
	code, body, _ = do(t, "POST", revoke, admin, nil)
	var revoked tokenRecord
	if err := json.Unmarshal(body, &revoked); err != nil || code != http.StatusOK || revoked.State != "revoked" || revoked.Revoked == "" {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _, _ := do(t, "GET", site.url+"/api/v1/identity", made.Token, nil); code != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d, want 401", code)
	}
	code, body, _ = do(t, "POST", revoke, admin, nil)
	var again tokenRecord
	if err := json.Unmarshal(body, &again); err != nil || code != http.StatusOK || again.Revoked != revoked.Revoked {
		t.Errorf("revoking again: %d %s, want 200 with the first time %s", code, body, revoked.Revoked)
	}
	for _, id := range []string{"aaaaaaaaaaaaaaaa", "not-an-id", "AAAAAAAAAAAAAAAA"} {
		if code, body, _ := do(t, "POST", u+"/"+id+"/revoke", admin, nil); code != http.StatusNotFound {
			t.Errorf("revoking %q: %d %s, want 404", id, code, body)
		}
	}

	all := logs.String()
	if strings.Contains(all, made.Token) || strings.Contains(all, strings.TrimPrefix(made.Token, token.Prefix+made.ID+"_")) || strings.Contains(all, "argon2") {
		t.Errorf("a log line holds the token's secret or hash:\n%s", all)
	}
	for _, want := range []string{`"msg":"token created"`, `"msg":"token revoked"`, `"token_id":"` + made.ID + `"`, `"identity":"token:admin/`} {
		if !strings.Contains(all, want) {
			t.Errorf("the log has no %s:\n%s", want, all)
		}
	}
}
