package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exectrace"
	"github.com/slipway/actions/internal/exitcode"
)

// runTraced runs argv under ptrace and records in info every executable it
// ran.
func (p *plan) runTraced(ctx context.Context, argv, env []string, out io.Writer, info *artifact.BuildInfo) error {
	w, flush, err := osFile(out, stopGrace)
	if err != nil {
		return exitcode.Infraf("a pipe for the build command's output: %w", err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		flush()
		return exitcode.Infraf("opening %s for the build command's input: %w", os.DevNull, err)
	}
	defer null.Close()
	res, err := exectrace.Run(ctx, exectrace.Command{
		Path: argv[0], Args: argv, Dir: p.Workspace, Env: env,
		Stdin: null, Stdout: w, Stderr: w, Grace: stopGrace,
	})
	flush()
	switch {
	case errors.Is(err, exectrace.ErrNotPermitted) || errors.Is(err, exectrace.ErrUnsupported):
		return exitcode.BadInputf("trace: the build command cannot be traced here: %v; %s", err, traceHint)
	case err != nil:
		return exitcode.Infraf("running the build command traced: %w", err)
	}
	info.Traced = true
	for _, e := range res.Execs {
		info.Executed = append(info.Executed, artifact.Executable{Path: e.Path, Digest: e.Digest})
	}
	for _, u := range res.Unreadable {
		p.traceWarnings = append(p.traceWarnings, fmt.Sprintf("trace: an executable the build command ran could not be read, so the trace misses it: %s", u))
	}
	switch st := res.Status; {
	case ctx.Err() != nil:
		return fmt.Errorf("the build command was stopped: %w", ctx.Err())
	case st.Signaled():
		return p.failed(0, st.Signal().String(), env)
	case st.ExitStatus() != 0:
		return p.failed(st.ExitStatus(), "", env)
	}
	return nil
}

// osFile returns a file that writes to w: w itself when it is one, else
// the write end of a pipe copied to w. flush closes that end and waits for
// the copy, at most grace for a process the command left behind that
// still holds the pipe.
func osFile(w io.Writer, grace time.Duration) (f *os.File, flush func(), err error) {
	if f, ok := w.(*os.File); ok {
		return f, func() {}, nil
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(w, r)
	}()
	return pw, func() {
		pw.Close()
		select {
		case <-done:
		case <-time.After(grace):
		}
		r.Close()
		<-done
	}, nil
}
