package jobscript

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/slipway/actions/internal/digest"
)

// MaxPathBytes bounds every path in a Spec.
const MaxPathBytes = 4096

// JobIDPattern in Spec.StatusFile or Spec.JobDir stands for the Slurm job id,
// as in sbatch's --output patterns.
const JobIDPattern = "%j"

// Spec is what a job script does: check the staged artifact on the node and
// run a command from it.
type Spec struct {
	// Slipway is the absolute path of the slipway binary on the nodes.
	Slipway string
	// Artifact is the absolute path of the staged artifact on the shared
	// filesystem, and Digest its admitted digest ("sha256:HEX").
	Artifact string
	Digest   string
	// Policy is the trust policy (absolute path) exec-verified checks the
	// Bundles (absolute paths) with; both empty: the digest only.
	Policy  string
	Bundles []string
	// Unpack says the artifact is a tar.gz to unpack into the job directory,
	// where the command then runs. Otherwise, with a JobDir, the staged file
	// is checked in place and handed on through the descriptor that was
	// hashed (exec-verified --in-place, with StagingRoot), or copied into
	// JobDir with Copy (--copy); without a JobDir the command gets a
	// checked copy sealed in memory. Each word of Argv equal to Artifact
	// names what the command gets.
	Unpack bool
	// Copy asks for exec-verified --copy instead of --in-place (a file
	// artifact with a JobDir).
	Copy bool
	// StagingRoot is, for --in-place, the directory (absolute) from which
	// down to Artifact no directory may be writable by another user; empty:
	// Artifact's own directory.
	StagingRoot string
	// JobDir is the fresh directory (absolute; JobIDPattern allowed) that
	// exec-verified creates, where the command runs (the unpacked files, or
	// the checked copy with Copy); it is kept after the job. Empty with Unpack: a new directory under the
	// node's TMPDIR (/tmp), removed when the job ends.
	JobDir string
	// ImageLayout, when set, says Artifact is an OCI image manifest (or
	// index) in this OCI image layout (absolute): exec-verified unpacks the
	// image, every blob hashed again, into a fresh bundle under the node's
	// TMPDIR (removed when the job ends) and runs Argv, or the image's
	// entrypoint and command when Argv is empty, in the container with
	// srun --container, in JobDir (required) mounted at its own path.
	ImageLayout string
	// Platform is, with ImageLayout, the platform (os/arch[/variant]) whose
	// image exec-verified picks when Artifact is an image index (the one
	// the dispatcher staged); empty: exec-verified's default.
	Platform string
	// ContainerRuntime runs the image: "" or "slurm" (srun --container),
	// or "podman" (podman run --rootfs of the verified root filesystem,
	// exec-verified --container-runtime podman). ContainerNetwork is the
	// Podman container's network: "" or "none" (loopback only), or "host".
	ContainerRuntime, ContainerNetwork string
	// Argv is the command, already split (SplitCommand): no shell ever sees
	// it; each word is passed as it is.
	Argv []string
	// StatusFile is where the script writes the job's status (API8.md),
	// absolute; JobIDPattern stands for the job id.
	StatusFile string
}

// Render returns the batch script for s, or an error naming the field that
// is not acceptable. The script needs SLURM_JOB_ID in its environment (Slurm
// sets it) and refuses to run without it.
func Render(s Spec) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("rendering the job script: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "slipway_status=%s\n", quotePattern(s.StatusFile))
	tmp := s.Unpack && s.JobDir == "" || s.ImageLayout != ""
	if tmp {
		b.WriteString("slipway_tmp=$(mktemp -d \"${TMPDIR:-/tmp}/slipway-job.XXXXXXXXXX\") || exit 70\n")
	}
	switch {
	case s.JobDir != "":
		fmt.Fprintf(&b, "slipway_dir=%s\n", quotePattern(s.JobDir))
	case tmp:
		b.WriteString("slipway_dir=\"$slipway_tmp/job\"\n")
	}
	fmt.Fprintf(&b, "%s exec-verified \\\n", Quote(s.Slipway))
	fmt.Fprintf(&b, "\t--digest %s \\\n", Quote(s.Digest))
	fmt.Fprintf(&b, "\t--file %s \\\n", Quote(s.Artifact))
	if s.Policy != "" {
		fmt.Fprintf(&b, "\t--policy %s \\\n", Quote(s.Policy))
	}
	for _, bu := range s.Bundles {
		fmt.Fprintf(&b, "\t--bundles %s \\\n", Quote(bu))
	}
	b.WriteString("\t--status \"$slipway_status\" \\\n")
	switch {
	case s.ImageLayout != "":
		fmt.Fprintf(&b, "\t--image-layout %s \\\n", Quote(s.ImageLayout))
		if s.Platform != "" {
			fmt.Fprintf(&b, "\t--platform %s \\\n", Quote(s.Platform))
		}
		b.WriteString("\t--bundle \"$slipway_tmp/bundle\" \\\n")
		b.WriteString("\t--job-dir \"$slipway_dir\" \\\n")
		if s.ContainerRuntime != "" && s.ContainerRuntime != "slurm" {
			fmt.Fprintf(&b, "\t--container-runtime %s \\\n", Quote(s.ContainerRuntime))
		}
		if s.ContainerNetwork != "" {
			fmt.Fprintf(&b, "\t--container-network %s \\\n", Quote(s.ContainerNetwork))
		}
	case s.Unpack:
		b.WriteString("\t--unpack \"$slipway_dir\" \\\n")
	case s.JobDir != "" && s.Copy:
		b.WriteString("\t--copy \"$slipway_dir\" \\\n")
	case s.JobDir != "":
		b.WriteString("\t--in-place \"$slipway_dir\" \\\n")
		if s.StagingRoot != "" {
			fmt.Fprintf(&b, "\t--staging-root %s \\\n", Quote(s.StagingRoot))
		}
	}
	b.WriteString("\t--")
	for _, w := range s.Argv {
		b.WriteString(" ")
		b.WriteString(Quote(w))
	}
	b.WriteString("\nslipway_rc=$?\n")
	if tmp {
		b.WriteString("rm -rf -- \"$slipway_tmp\"\n")
	}
	b.WriteString(footer)
	return b.Bytes(), nil
}

const header = `#!/bin/sh
# Written by slipway (internal/jobscript). Every value below is a single-quoted literal; the only
# expansions are of this script's own variables, SLURM_JOB_ID and TMPDIR. The first command checks the
# staged artifact again on this node (slipway exec-verified: digest, signatures) and only then runs the
# command, without a shell. The last lines write the job's status file atomically.
set -u
umask 077
: "${SLURM_JOB_ID:?this script runs under Slurm only}"
case $SLURM_JOB_ID in '' | *[!0-9]*) echo "slipway: SLURM_JOB_ID is not a job id" >&2; exit 70 ;; esac
`

// footer writes the status file unless exec-verified wrote its refusal
// there: "verified" true means it did not refuse (it ran the command, or
// was killed before deciding: then the exit code is 128 + the signal).
const footer = `if [ ! -e "$slipway_status" ]; then
	printf '{"version":1,"jobId":"%s","exitCode":%d,"verified":true}\n' "$SLURM_JOB_ID" "$slipway_rc" >"$slipway_status.tmp" &&
		mv -f -- "$slipway_status.tmp" "$slipway_status"
fi
exit "$slipway_rc"
`

// Quote returns s as one single-quoted sh word: every byte literal, a
// single quote written as the four bytes quote, backslash, quote, quote.
// s must not hold a NUL byte (no argv can).
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quotePattern quotes p with each JobIDPattern replaced by the job id.
func quotePattern(p string) string {
	parts := strings.Split(p, JobIDPattern)
	for i, s := range parts {
		parts[i] = Quote(s)
	}
	return strings.Join(parts, `"$SLURM_JOB_ID"`)
}

func (s Spec) validate() error {
	if err := checkPath("slipway", s.Slipway, false); err != nil {
		return err
	}
	if err := checkPath("artifact", s.Artifact, false); err != nil {
		return err
	}
	if _, err := digest.Parse(s.Digest); err != nil {
		return fmt.Errorf("digest %q: %w; give the admitted digest as sha256:<64 hex digits>", s.Digest, err)
	}
	if s.Policy != "" {
		if err := checkPath("policy", s.Policy, false); err != nil {
			return err
		}
	}
	if len(s.Bundles) > 0 && s.Policy == "" {
		return errors.New("bundles given without a policy: exec-verified checks signatures against a trust policy; give the policy too")
	}
	for _, b := range s.Bundles {
		if err := checkPath("bundle", b, false); err != nil {
			return err
		}
		if strings.ContainsAny(b, ",") || strings.TrimSpace(b) != b {
			// exec-verified's --bundles is a list input: commas separate
			// items and spaces around them are trimmed.
			return fmt.Errorf("bundle %q: holds a comma or ends in a space, which exec-verified's --bundles list would split or trim; rename the file", b)
		}
	}
	if s.JobDir != "" {
		if err := checkPath("job directory", s.JobDir, true); err != nil {
			return err
		}
	}
	switch {
	case s.Copy && (s.Unpack || s.JobDir == "" || s.ImageLayout != ""):
		return errors.New("copy without a job directory, or with unpack or an image: the copy goes into the job directory, and an archive or image is unpacked instead; give JobDir, or drop Copy")
	case s.StagingRoot != "" && (s.Unpack || s.Copy || s.JobDir == "" || s.ImageLayout != ""):
		return errors.New("a staging root is only for the in-place check (a file artifact with a job directory, no copy); drop it")
	case s.StagingRoot != "":
		if err := checkPath("staging root", s.StagingRoot, false); err != nil {
			return err
		}
		if !strings.HasPrefix(s.Artifact, s.StagingRoot+"/") && s.StagingRoot != "/" {
			return fmt.Errorf("artifact %q is not under the staging root %q; give a staging root that holds it", s.Artifact, s.StagingRoot)
		}
	}
	if err := checkPath("status file", s.StatusFile, true); err != nil {
		return err
	}
	if s.ImageLayout != "" {
		if err := checkPath("image layout", s.ImageLayout, false); err != nil {
			return err
		}
		if s.JobDir == "" || s.Unpack {
			return errors.New("an image job needs a job directory (mounted into the container) and cannot be unpacked as a tar.gz")
		}
	}
	switch {
	case s.Platform != "" && s.ImageLayout == "":
		return errors.New("a platform is for an image job (it picks the image of an index); drop it")
	case strings.Trim(s.Platform, "abcdefghijklmnopqrstuvwxyz0123456789/._-") != "":
		return fmt.Errorf("platform %q: write it as os/arch[/variant], such as linux/amd64", s.Platform)
	case s.ImageLayout == "" && (s.ContainerRuntime != "" || s.ContainerNetwork != ""):
		return errors.New("a container runtime or network without an image: they say how an OCI image runs; drop them for a file or an archive")
	case s.ContainerRuntime != "" && s.ContainerRuntime != "slurm" && s.ContainerRuntime != "podman":
		return fmt.Errorf("container runtime %q: give slurm (srun --container, the default) or podman (podman run --rootfs)", s.ContainerRuntime)
	case s.ContainerNetwork != "" && s.ContainerRuntime != "podman":
		return fmt.Errorf("container network %q without the podman runtime: srun --container runs the bundle as the site's oci.conf says; drop it or choose container runtime podman", s.ContainerNetwork)
	case s.ContainerNetwork != "" && s.ContainerNetwork != "none" && s.ContainerNetwork != "host":
		return fmt.Errorf("container network %q: give none (loopback only, the default) or host (the node's network)", s.ContainerNetwork)
	case s.ContainerRuntime == "podman" && strings.ContainsAny(s.JobDir, ",="):
		return fmt.Errorf("job directory %q holds a comma or an equals sign, which podman's --mount would split; choose a workdir without them", s.JobDir)
	}
	if (len(s.Argv) == 0 && s.ImageLayout == "") || (len(s.Argv) > 0 && s.Argv[0] == "") {
		return errors.New("no command: give the command's words (SplitCommand splits a command line)")
	}
	for i, w := range s.Argv {
		if strings.IndexByte(w, 0) >= 0 {
			return fmt.Errorf("command word %d (%q) holds a NUL byte, which no argument can carry; remove it", i, w)
		}
		if len(w) > MaxCommandBytes {
			return fmt.Errorf("command word %d is longer than %d bytes", i, MaxCommandBytes)
		}
	}
	return nil
}

// checkPath accepts an absolute, clean path without control characters;
// with pattern, %j is its only % sequence.
func checkPath(field, p string, pattern bool) error {
	switch {
	case p == "":
		return fmt.Errorf("%s: empty; give an absolute path", field)
	case len(p) > MaxPathBytes:
		return fmt.Errorf("%s %q: longer than %d bytes", field, shorten(p), MaxPathBytes)
	case !path.IsAbs(p):
		return fmt.Errorf("%s %q: not an absolute path; give the path on the nodes' filesystem, starting with /", field, p)
	case path.Clean(p) != p:
		return fmt.Errorf("%s %q: not a clean path (%q); remove the . and .. elements and doubled or trailing slashes", field, p, path.Clean(p))
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s %q: control character at byte %d; rename the file", field, p, i)
		}
	}
	if pattern {
		if strings.Contains(strings.ReplaceAll(p, JobIDPattern, ""), "%") {
			return fmt.Errorf("%s %q: %%j (the job id) is the only %% pattern allowed", field, p)
		}
	} else if strings.Contains(p, "%") {
		// Not a pattern here, but a % would read like one to whoever looks at
		// the script and to sbatch-like tools: refuse it rather than guess.
		return fmt.Errorf("%s %q: holds a %%; rename the file", field, p)
	}
	return nil
}
