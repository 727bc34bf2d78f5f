package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/registryref"
)

// PinFile is the repository file that says which image every action runs
// (docs/releasing.md): the generator writes it into each action.yml, and
// actions/setup reads it to know which image to copy slipway from and which
// digest the copy must have.
const PinFile = "actions/image.env"

// Pin is the content of PinFile. On main, Image is Image (the image built
// from main, by its moving tag) and SlipwaySHA256 is empty; in a release
// commit, Image names the published image by digest and SlipwaySHA256 is the
// SHA-256 of the /slipway in it, as sha256:HEX.
type Pin struct {
	Image         string
	SlipwaySHA256 string
}

var (
	sha256Re = lazyregexp.New(`^sha256:[0-9a-f]{64}$`)
	commitRe = lazyregexp.New(`^[0-9a-f]{40}$`)
)

// Pinned reports whether p names the image by digest (a release commit).
func (p Pin) Pinned() bool { return strings.Contains(p.Image, "@") }

// Validate checks that p is either main's (a tag, no binary digest) or a
// release's (a digest and the binary's digest).
func (p Pin) Validate() error {
	ref, err := registryref.Parse(p.Image)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	switch r := ref.(type) {
	case name.Digest:
		if !sha256Re.MatchString(r.DigestStr()) {
			return fmt.Errorf("image %q: the digest must be sha256:HEX (64 lowercase hex digits)", p.Image)
		}
		if !sha256Re.MatchString(p.SlipwaySHA256) {
			return fmt.Errorf("slipway-sha256 %q: an image pinned by digest needs the SHA-256 of its /slipway as sha256:HEX, which actions/setup checks", p.SlipwaySHA256)
		}
	case name.Tag:
		if p.SlipwaySHA256 != "" {
			return fmt.Errorf("slipway-sha256 %q is set but image %q is a tag, which can move: pin the image by digest (REPO@sha256:HEX), or leave slipway-sha256 empty", p.SlipwaySHA256, p.Image)
		}
	}
	return nil
}

// ParsePin reads PinFile's format: "# comment" lines, blank lines and
// exactly one "image=" and one "slipway-sha256=" line.
func ParsePin(r io.Reader, file string) (Pin, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return Pin{}, fmt.Errorf("reading %s: %w", file, err)
	}
	var p Pin
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || (k != "image" && k != "slipway-sha256") {
			return Pin{}, fmt.Errorf("%s:%d: %q is not image=REF or slipway-sha256=sha256:HEX", file, i+1, line)
		}
		if seen[k] {
			return Pin{}, fmt.Errorf("%s:%d: %s is set twice; keep one line", file, i+1, k)
		}
		seen[k] = true
		if k == "image" {
			p.Image = v
		} else {
			p.SlipwaySHA256 = v
		}
	}
	if !seen["image"] || !seen["slipway-sha256"] {
		return Pin{}, fmt.Errorf("%s: it needs an image= line and a slipway-sha256= line (empty on main)", file)
	}
	if err := p.Validate(); err != nil {
		return Pin{}, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// ReadPin reads PinFile in the repository at root.
func ReadPin(root string) (Pin, error) {
	f, err := os.Open(filepath.Join(root, PinFile))
	if err != nil {
		return Pin{}, fmt.Errorf("reading the action image pin: %w", err)
	}
	defer f.Close()
	return ParsePin(f, PinFile)
}

// pinText renders p in PinFile's format.
func pinText(p Pin) string {
	return `# The image every Slipway action runs, and the SHA-256 of the /slipway in it (docs/releasing.md).
# On main: the image publish.yml builds from main, by its moving tag; actions/setup cannot check its binary.
# In a release commit: written by "go run ./cmd/slipway-pin image": the image by digest, and the digest of its
# binary, which actions/setup checks. The generator (go test ./internal/cli -run TestGenerated) reads it.
image=` + p.Image + `
slipway-sha256=` + p.SlipwaySHA256 + "\n"
}

// GeneratedActions returns the action.yml files the stages' input tables
// give (path relative to the repository → content), running image.
func GeneratedActions(cmds []Command, image string) map[string]string {
	files := map[string]string{"action.yml": RootActionYAML(cmds, "pipeline", image)}
	for _, c := range cmds {
		if hasAction(c) {
			files[filepath.Join("actions", actionDir(c), "action.yml")] = ActionYAML(c, image)
		}
	}
	return files
}

// PinImage writes p to PinFile in the repository at root and regenerates
// every action.yml to run p.Image: the first commit of a release.
func PinImage(root string, cmds []Command, p Pin) error {
	if err := p.Validate(); err != nil {
		return err
	}
	files := GeneratedActions(cmds, p.Image)
	files[PinFile] = pinText(p)
	for rel, content := range files {
		if err := atomicfile.Write(filepath.Join(root, rel), 0o644, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		}); err != nil {
			return fmt.Errorf("pinning the image: %w", err)
		}
	}
	return nil
}

// usesRe matches a workflow line that uses this repository: the action at
// the root, an action under actions/, or a reusable workflow.
var usesRe = lazyregexp.New(`^(\s*(?:-\s+)?uses:\s*)(["']?)slipway/actions((?:/[A-Za-z0-9._-]+)*)@([^\s"'#]+)(["']?)(\s*(?:#.*)?)$`)

// PinUses rewrites every use of this repository in a workflow (data, named
// file for errors) to the commit sha; exists reports whether a path of the
// repository exists, so that a use of a missing action fails here rather
// than in a user's job. It returns the new content and how many uses it
// pinned.
func PinUses(data []byte, file, sha string, exists func(rel string) bool) ([]byte, int, error) {
	if !commitRe.MatchString(sha) {
		return nil, 0, fmt.Errorf("commit %q is not a full 40-digit lowercase hex SHA-1", sha)
	}
	lines := strings.SplitAfter(string(data), "\n")
	n := 0
	for i, line := range lines {
		body := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(strings.TrimSpace(body), "#") {
			continue // a comment, e.g. how callers use the workflow
		}
		m := usesRe.FindStringSubmatch(body)
		if m == nil {
			if strings.Contains(body, "slipway/actions/") && strings.Contains(body, "uses:") {
				return nil, 0, fmt.Errorf("%s:%d: %q uses slipway/actions in a form the pin tool does not know; write it as uses: slipway/actions/PATH@REF on one line", file, i+1, strings.TrimSpace(body))
			}
			continue
		}
		target := strings.TrimPrefix(m[3], "/")
		switch {
		case strings.HasPrefix(target, ".github/workflows/"):
		case target == "":
			target = "action.yml"
		default:
			target += "/action.yml"
		}
		if !exists(target) {
			return nil, 0, fmt.Errorf("%s:%d: uses slipway/actions%s, but %s does not exist in the release", file, i+1, m[3], target)
		}
		lines[i] = m[1] + m[2] + "slipway/actions" + m[3] + "@" + sha + m[5] + m[6] + line[len(body):]
		n++
	}
	out := []byte(strings.Join(lines, ""))
	var doc any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		return nil, 0, fmt.Errorf("%s: not valid YAML after pinning: %w", file, err)
	}
	return out, n, nil
}

// PinWorkflows pins every use of this repository in .github/workflows of
// the repository at root to the commit sha: the second commit of a release,
// whose parent sha holds the pinned actions. It returns the files changed.
func PinWorkflows(root, sha string) ([]string, error) {
	var changed []string
	exists := func(rel string) bool {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		return err == nil && fi.Mode().IsRegular()
	}
	paths, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("pinning the workflows: %w", err)
		}
		out, n, err := PinUses(data, filepath.ToSlash(rel), sha, exists)
		if err != nil {
			return nil, err
		}
		if n == 0 || bytes.Equal(out, data) {
			continue
		}
		if err := atomicfile.Write(p, 0o644, func(w io.Writer) error { _, err := w.Write(out); return err }); err != nil {
			return nil, fmt.Errorf("pinning the workflows: %w", err)
		}
		changed = append(changed, filepath.ToSlash(rel))
	}
	return changed, nil
}

// PinMain is cmd/slipway-pin: "image --image REF --slipway-sha256 SUM" or
// "workflows --commit SHA", in the repository given by --repo (default "."),
// or "trusted-root --out FILE" (FetchTrustedRoot). It prints what it did.
func PinMain(args []string, stdout io.Writer) error {
	usage := fmt.Errorf("usage: slipway-pin image --image REPO@sha256:HEX --slipway-sha256 sha256:HEX [--repo DIR]\n   or: slipway-pin workflows --commit SHA [--repo DIR]\n   or: slipway-pin trusted-root --out FILE [--tuf-url URL]")
	if len(args) == 0 {
		return usage
	}
	fs := flag.NewFlagSet("slipway-pin "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	repo := fs.String("repo", ".", "the repository's root")
	var p Pin
	var commit, out, tufURL string
	switch args[0] {
	case "trusted-root":
		fs.StringVar(&out, "out", "", "where to write trusted_root.json")
		fs.StringVar(&tufURL, "tuf-url", PublicTUF, "the Sigstore TUF repository")
	case "image":
		fs.StringVar(&p.Image, "image", "", "the image by digest")
		fs.StringVar(&p.SlipwaySHA256, "slipway-sha256", "", "the SHA-256 of its /slipway")
	case "workflows":
		fs.StringVar(&commit, "commit", "", "the commit that holds the pinned actions")
	default:
		return usage
	}
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usage
	}
	if args[0] == "trusted-root" {
		if out == "" {
			return usage
		}
		if err := FetchTrustedRoot(out, tufURL); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the trusted root of %s to %s\n", tufURL, out)
		return nil
	}
	if args[0] == "workflows" {
		changed, err := PinWorkflows(*repo, commit)
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			return fmt.Errorf("no workflow in %s/.github/workflows uses slipway/actions: nothing to pin", *repo)
		}
		for _, f := range changed {
			fmt.Fprintf(stdout, "pinned %s to %s\n", f, commit)
		}
		return nil
	}
	if !p.Pinned() {
		return fmt.Errorf("image %q is not pinned by digest: a release runs REPO@sha256:HEX", p.Image)
	}
	if err := PinImage(*repo, Commands(), p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned every action to %s (slipway %s)\n", p.Image, p.SlipwaySHA256)
	return nil
}
