package input

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

type opts struct {
	Command   string
	Artifacts []string
	Overwrite bool
	Password  string
	MaxAge    time.Duration
}

func bind(o *opts) []Input {
	return []Input{
		String(&o.Command, Spec{Name: "command", Description: "Build command.", Default: "make"}),
		List(&o.Artifacts, Spec{Name: "artifacts", Description: "Globs.", Required: true}),
		Bool(&o.Overwrite, Spec{Name: "allow-overwrite", Description: "Overwrite.", Default: "false"}),
		String(&o.Password, Spec{Name: "password", Description: "Key password.", Secret: true, Env: "COSIGN_PASSWORD"}),
		Duration(&o.MaxAge, Spec{Name: "max-age", Description: "Age."}),
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     Source
		want    opts
		secrets int
		wantErr string
	}{
		{
			name: "defaults and flags",
			src:  Source{Flags: map[string]string{"artifacts": "a,b\nc"}},
			want: opts{Command: "make", Artifacts: []string{"a", "b", "c"}},
		},
		{
			name: "action inputs win over env, flags win over action inputs",
			src: Source{InActions: true, Flags: map[string]string{"command": "go build"}, Getenv: env(map[string]string{
				"INPUT_COMMAND": "ignored", "INPUT_ARTIFACTS": "dist/*\n", "INPUT_ALLOW-OVERWRITE": "true",
				"INPUT_PASSWORD": "s3cret", "COSIGN_PASSWORD": "other",
			})},
			want:    opts{Command: "go build", Artifacts: []string{"dist/*"}, Overwrite: true, Password: "s3cret"},
			secrets: 1,
		},
		{
			name: "empty action input falls back to default",
			src:  Source{InActions: true, Getenv: env(map[string]string{"INPUT_COMMAND": "", "INPUT_ARTIFACTS": "x"})},
			want: opts{Command: "make", Artifacts: []string{"x"}},
		},
		{
			name: "INPUT_ ignored outside actions, secret from env",
			src:  Source{Flags: map[string]string{"artifacts": "x"}, Getenv: env(map[string]string{"INPUT_COMMAND": "no", "COSIGN_PASSWORD": "pw"})},
			want: opts{Command: "make", Artifacts: []string{"x"}, Password: "pw"}, secrets: 1,
		},
		{
			name: "secret never from a flag",
			src:  Source{Flags: map[string]string{"artifacts": "x", "password": "leaked"}},
			want: opts{Command: "make", Artifacts: []string{"x"}},
		},
		{name: "missing required", src: Source{}, wantErr: `input "artifacts" (from default): required: pass --artifacts, or in a workflow, add "artifacts:" under "with:"`},
		{name: "bad bool", src: Source{Flags: map[string]string{"artifacts": "x", "allow-overwrite": "maybe"}}, wantErr: `input "allow-overwrite" (from flag): "maybe" is not a boolean`},
		{name: "bad duration", src: Source{Flags: map[string]string{"artifacts": "x", "max-age": "3 days"}}, wantErr: `"3 days" is not a duration`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got opts
			res, err := Resolve(bind(&got), tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Command != tc.want.Command || strings.Join(got.Artifacts, "|") != strings.Join(tc.want.Artifacts, "|") ||
				got.Overwrite != tc.want.Overwrite || got.Password != tc.want.Password {
				t.Errorf("Resolve() = %+v, want %+v", got, tc.want)
			}
			if len(res.Secrets) != tc.secrets {
				t.Errorf("secrets = %d, want %d", len(res.Secrets), tc.secrets)
			}
		})
	}
}

func TestRequiredIsTyped(t *testing.T) {
	t.Parallel()
	var o opts
	_, err := Resolve(bind(&o), Source{})
	if !errors.Is(err, ErrRequired) {
		t.Fatalf("error %v does not wrap ErrRequired", err)
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var o opts
	ins := bind(&o)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFlags(fs, ins)
	if fs.Lookup("password") != nil {
		t.Fatal("secret input registered as a flag")
	}
	if err := fs.Parse([]string{"--artifacts", "a", "--artifacts=b", "--allow-overwrite"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(ins, Source{Flags: Changed(fs, ins)}); err != nil {
		t.Fatal(err)
	}
	if !o.Overwrite || strings.Join(o.Artifacts, ",") != "a,b" {
		t.Errorf("got %+v", o)
	}
	if err := fs.Parse([]string{"--allow-overwrite=maybe"}); err == nil {
		t.Error("bad boolean flag accepted")
	}
}
