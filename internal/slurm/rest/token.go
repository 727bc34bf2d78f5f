package rest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipway/actions/internal/exitcode"
)

// TokenOptions configure ScontrolToken.
type TokenOptions struct {
	// Bin is the directory of scontrol; "" looks it up in PATH.
	Bin string
	// User is the Slurm user the token is for (only SlurmUser or root may
	// ask for another user's token).
	User string
	// Lifespan of each token; 0 is one hour. A token is renewed when less
	// than a fifth of it is left.
	Lifespan time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// ScontrolToken returns a token source for Options.Token that runs
// `scontrol token username=USER lifespan=SECONDS` when it has no token or its
// token is about to expire. The token is kept in memory only and never
// logged; an error quotes scontrol's message, never its output line with the
// token.
func ScontrolToken(o TokenOptions) func(context.Context) (string, error) {
	if o.Lifespan <= 0 {
		o.Lifespan = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	secs := int64((o.Lifespan + time.Second - 1) / time.Second)
	var (
		mu      sync.Mutex
		tok     string
		renewAt time.Time
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok != "" && o.Now().Before(renewAt) {
			return tok, nil
		}
		name := "scontrol"
		if o.Bin != "" {
			name = filepath.Join(o.Bin, name)
		}
		start := o.Now()
		cmd := exec.CommandContext(ctx, name, "token", "username="+o.User, "lifespan="+strconv.FormatInt(secs, 10))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			return "", exitcode.Infraf("slurm: scontrol token username=%s: %v: %s: check that AuthAltTypes=auth/jwt is configured and that this user may ask for the token", o.User, err, msg)
		}
		t, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "SLURM_JWT=")
		if !ok || t == "" || strings.ContainsAny(t, " \t\r\n") {
			return "", exitcode.Infraf("slurm: scontrol token username=%s printed no SLURM_JWT=<token> line: check the Slurm version (20.11 or later)", o.User)
		}
		tok, renewAt = t, start.Add(o.Lifespan*4/5)
		return tok, nil
	}
}
