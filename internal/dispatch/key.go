package dispatch

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/slipway/actions/internal/lazyregexp"
)

// RunIdentity names the workflow run attempt and job a dispatch belongs to
// (GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB); empty outside Actions.
type RunIdentity struct {
	RunID, Attempt, Job string
}

// keyCharset is the idempotency key's (API8.md), as Slurm's comment takes it.
var keyCharset = lazyregexp.New(`^[A-Za-z0-9._:=/-]{1,255}$`)

// IdempotencyKey is the job comment that finds a dispatch's job again
// (API8.md): slipway:v1:run=<run id>.<attempt>:job=<job>:release=<id>:
// spec=<first 16 hex of the job spec's fingerprint>. Outside Actions the
// run is local-<random>: a re-run cannot find the job.
func IdempotencyKey(run RunIdentity, release, fingerprint string) (string, error) {
	r := run.RunID + "." + run.Attempt
	if run.RunID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		r = "local-" + hex.EncodeToString(b[:])
	}
	if len(fingerprint) < 16 {
		return "", fmt.Errorf("the job's fingerprint %q is too short", fingerprint)
	}
	k := "slipway:v1:run=" + r + ":job=" + run.Job + ":release=" + release + ":spec=" + fingerprint[:16]
	if !keyCharset.MatchString(k) {
		return "", fmt.Errorf("the idempotency key %q has characters outside [A-Za-z0-9._:=/-] or is longer than 255 bytes: check GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB", k)
	}
	return k, nil
}
