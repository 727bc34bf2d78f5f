package action

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"sync"
)

// StopCommands returns a writer for text the step did not write itself (a
// Slurm job's log streamed into the step's log): GitHub Actions ignores the
// workflow commands in it (::set-output::, ::add-mask::, ::error::), so that
// the text cannot forge the step's outputs or annotations or hide later log
// lines. The first write stops command processing under a random token
// ("::stop-commands::TOKEN"); end resumes it on a line of its own
// ("::TOKEN::") and must be called before the step reports anything itself:
// while commands are stopped, the step's own masks and outputs would be
// ignored too. Nothing is written when nothing was.
func StopCommands(w io.Writer) (untrusted io.Writer, end func() error) {
	s := &stopped{w: w}
	return s, s.end
}

type stopped struct {
	mu      sync.Mutex
	w       io.Writer
	token   string // "" until the first write
	lastNL  bool
	written bool
}

func (s *stopped) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		s.token = "slipway-" + hex.EncodeToString(b[:])
		if _, err := io.WriteString(s.w, "::stop-commands::"+s.token+"\n"); err != nil {
			return 0, err
		}
	}
	n, err := s.w.Write(p)
	if n > 0 {
		s.written = true
		s.lastNL = p[n-1] == '\n'
	}
	return n, err
}

func (s *stopped) end() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" {
		return nil
	}
	resume := "::" + s.token + "::\n"
	if s.written && !s.lastNL {
		resume = "\n" + resume
	}
	s.token, s.written = "", false
	_, err := io.WriteString(s.w, resume)
	return err
}
