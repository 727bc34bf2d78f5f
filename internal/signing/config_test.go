package signing

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	sigstore := Config{FulcioURL: PublicFulcioURL, RekorURL: PublicRekorURL, TLog: true}
	with := func(f func(*Config)) Config { c := sigstore; f(&c); return c }
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"nothing", sigstore, ""},
		{"key", with(func(c *Config) { c.Key = "cosign.key" }), ""},
		{"keyless", with(func(c *Config) { c.Keyless = true }), ""},
		{"key and keyless", with(func(c *Config) { c.Key, c.Keyless = "cosign.key", true }), "both key and keyless are set"},
		{"keyless without fulcio", with(func(c *Config) { c.Keyless, c.FulcioURL = true, "" }), "keyless signing needs fulcio-url"},
		{"tlog without rekor", with(func(c *Config) { c.Key, c.RekorURL = "k", "" }), "tlog is true but rekor-url is empty"},
		{"no tlog, no rekor", with(func(c *Config) { c.Key, c.RekorURL, c.TLog = "k", "", false }), ""},
		{"no key, no rekor", with(func(c *Config) { c.RekorURL = "" }), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("Validate() = %v (code %v), want a bad input error with %q", err, exitcode.Of(err), tc.want)
			}
		})
	}
}

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	env := Env{Dir: "/work/space"}
	tests := []struct {
		name     string
		c        Config
		key      string
		rekor    string
		keyless  bool
		password string
	}{
		{"relative key file", Config{Key: "keys/cosign.key", Password: "pw", RekorURL: "https://r", TLog: true}, filepath.Join("/work/space", "keys/cosign.key"), "https://r", false, "pw"},
		{"absolute key file", Config{Key: "/etc/cosign.key", RekorURL: "https://r"}, "/etc/cosign.key", "", false, ""},
		{"KMS key", Config{Key: "hashivault://release", TLog: true, RekorURL: "https://r"}, "hashivault://release", "https://r", false, ""},
		{"keyless", Config{Keyless: true, IDToken: "tok", FulcioURL: "https://f"}, "", "", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.c.Options(env, nil)
			if o.Key != tc.key || o.RekorURL != tc.rekor || (o.IDToken != nil) != tc.keyless || string(o.Password) != tc.password || o.FulcioURL != tc.c.FulcioURL {
				t.Fatalf("Options() = key %q, rekor %q, token source %v, password %q, fulcio %q", o.Key, o.RekorURL, o.IDToken != nil, o.Password, o.FulcioURL)
			}
			if tc.keyless {
				if tok, err := o.IDToken(context.Background()); err != nil || tok != tc.c.IDToken {
					t.Errorf("IDToken() = %q, %v", tok, err)
				}
			}
		})
	}
}

// TestTokens: a peeked token is the next one handed out, then each Get
// fetches a fresh one; without identity-token and outside GitHub Actions
// the error says which permission to add.
func TestTokens(t *testing.T) {
	t.Parallel()
	n := 0
	tokens := &Tokens{fetch: func(context.Context) (string, error) { n++; return "tok" + string(rune('0'+n)), nil }}
	ctx := context.Background()
	for i, want := range []string{"tok1", "tok1", "tok1", "tok2", "tok3"} {
		var got string
		var err error
		if i < 2 {
			got, err = tokens.Peek(ctx)
		} else {
			got, err = tokens.Get(ctx)
		}
		if err != nil || got != want {
			t.Fatalf("call %d = %q, %v; want %q", i, got, err, want)
		}
	}
	_, err := Config{Keyless: true}.Tokens(Env{}).Get(ctx)
	if err == nil || !strings.Contains(err.Error(), "permissions: id-token: write") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Get() outside Actions = %v (code %v)", err, exitcode.Of(err))
	}
}

// TestKeyFromSecret: the key's PEM as the COSIGN_KEY secret or in an
// environment variable named by env://NAME signs as the key file does (same
// key hint), and errors name where the key came from, never its content.
func TestKeyFromSecret(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	ctx := context.Background()
	fromFile, err := New(ctx, Options{Key: key.PrivatePath, Password: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"COSIGN_KEY": string(key.PrivatePEM), "RELEASE_KEY": string(key.PrivatePEM), "NOT_PEM": "secret-not-a-key"}
	getenv := func(k string) string { return env[k] }
	for name, c := range map[string]Config{
		"secret":                          {KeyPEM: string(key.PrivatePEM), Password: "pw"},
		"env://RELEASE_KEY":               {Key: "env://RELEASE_KEY", Password: "pw"},
		"env://COSIGN_KEY and the secret": {Key: "env://COSIGN_KEY", KeyPEM: string(key.PrivatePEM), Password: "pw"},
	} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: Validate() = %v", name, err)
		}
		s, err := New(ctx, c.Options(Env{Dir: t.TempDir(), Getenv: getenv}, nil))
		if err != nil {
			t.Fatalf("%s: New() = %v", name, err)
		}
		if s.KeyHint() != fromFile.KeyHint() || s.Identity() != fromFile.Identity() {
			t.Errorf("%s: key hint %q, identity %q; the key file gives %q, %q", name, s.KeyHint(), s.Identity(), fromFile.KeyHint(), fromFile.Identity())
		}
		if _, err := s.SignDSSE(ctx, "application/vnd.in-toto+json", []byte("{}")); err != nil {
			t.Errorf("%s: SignDSSE() = %v", name, err)
		}
	}

	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"wrong password", Config{KeyPEM: string(key.PrivatePEM), Password: "nope"}, "decrypting the cosign key in the COSIGN_KEY secret (cosign-key) failed: the COSIGN_PASSWORD secret is wrong"},
		{"not PEM", Config{Key: "env://NOT_PEM"}, "the cosign key in the environment variable NOT_PEM is not PEM"},
		{"unset variable", Config{Key: "env://MISSING"}, "the environment variable MISSING is empty or not set"},
		{"public key", Config{KeyPEM: string(key.PublicPEM)}, `holds a "PUBLIC KEY" PEM block`},
	} {
		_, err := New(ctx, tc.c.Options(Env{Getenv: getenv}, nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%s: New() = %v (code %v), want %q", tc.name, err, exitcode.Of(err), tc.want)
		}
		for _, s := range append(key.SecretLines(), "secret-not-a-key") {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error quotes the key: %v", tc.name, err)
			}
		}
	}
	if err := (Config{Key: "cosign.key", KeyPEM: "x"}).Validate(); err == nil || !strings.Contains(err.Error(), "both key") {
		t.Errorf("Validate(key and cosign-key) = %v", err)
	}
	if err := (Config{KeyPEM: "x", Keyless: true, FulcioURL: "https://f"}).Validate(); err == nil || !strings.Contains(err.Error(), "both key and keyless") {
		t.Errorf("Validate(cosign-key and keyless) = %v", err)
	}
	if _, err := New(ctx, Options{Key: key.PrivatePath, KeyPEM: key.PrivatePEM}); err == nil || !strings.Contains(err.Error(), "both key") {
		t.Errorf("New(Key and KeyPEM) = %v", err)
	}
}
