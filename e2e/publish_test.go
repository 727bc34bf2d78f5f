package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// publishRepository is what the copy of this repository claims to be, as on GitHub.
const publishRepository = "slipway/actions"

// publishRun is one run of .github/workflows/publish.yml for a version tag, against a bare repository standing
// in for GitHub, a loopback registry for ghcr.io and the test's Sigstore.
type publishRun struct {
	*Result
	version     string
	source      string // the commit the version tag named when the run started
	remote      string // the bare repository
	imageRepo   string // REGISTRY/slipway/actions
	trustedRoot string // the test Sigstore's trusted root
	jobWorkflow string // what Fulcio certified: publish.yml at the version tag
}

// runPublish pushes the copied repository's commit to the bare repository remote (cloning it there when it
// does not exist yet), tags it with version unless version is empty, and runs publish.yml for that push: of
// the tag, or of main when version is empty. trustedRoot is the file the workflow's verify step trusts.
func runPublish(t *testing.T, src, remote, reg, version string, ss *sigstoretest.Sigstore, trustedRoot string) publishRun {
	t.Helper()
	goTool := tools.Require(t, "go")
	iss := ss.Issuer
	ref, refType := "refs/heads/main", "branch"
	if version != "" {
		ref, refType = "refs/tags/"+version, "tag"
	}
	p := publishRun{version: version, remote: remote, imageRepo: reg + "/slipway/actions", trustedRoot: trustedRoot,
		jobWorkflow: publishRepository + "/.github/workflows/publish.yml@" + ref}
	claims := sigstoretest.GitHubClaims(publishRepository, ".github/workflows/publish.yml")
	claims["job_workflow_ref"], claims["workflow_ref"] = p.jobWorkflow, p.jobWorkflow
	claims["ref"], claims["ref_type"], claims["sub"] = ref, refType, "repo:"+publishRepository+":ref:"+ref
	claims["run_id"] = "1" // what act reports as GITHUB_RUN_ID
	claims["runner_environment"] = "self-hosted"
	tokens := sigstoretest.StartTokenEndpoint(t, iss, claims)
	event := filepath.Join(t.TempDir(), "event.json")

	env := goEnv(t, goTool)
	env["GOMODCACHE"] = strings.TrimSpace(run(t, goTool, "env", "GOMODCACHE"))
	// Each run checks out into a new directory: without -trimpath its `go run ./cmd/slipway-pin` would compile
	// every package of this module again (their paths are in the build's cache keys), and link twice. With
	// -trimpath and without cgo, as scripts/image compiles its builder a step before, it finds every package
	// compiled, links once and reuses that executable for its second run.
	env["GOFLAGS"], env["CGO_ENABLED"] = "-trimpath", "0"
	p.Result = Run(t, Scenario{
		Workflow:   "../.github/workflows/publish.yml",
		Source:     src,
		Repository: publishRepository,
		Event:      "push",
		EventPath:  event,
		NoImage:    true,
		HostTools:  []string{"go", "git"},
		Env:        env,
		RunnerEnv:  tokens.Env(),
		Timeout:    25 * time.Minute,
		Vars: map[string]string{
			"SLIPWAY_IMAGE_REPOSITORY": p.imageRepo,
			"SLIPWAY_FULCIO_URL":       ss.FulcioURL,
			"SLIPWAY_REKOR_URL":        ss.RekorURL,
			"SLIPWAY_TSA_URL":          ss.TSAURL,
			"SLIPWAY_TRUSTED_ROOT":     trustedRoot,
			"SLIPWAY_BUILDER_ID":       builderID,
			"SLIPWAY_GIT_REMOTE":       remote,
		},
		Setup: func(t *testing.T, dir string) {
			git := func(args ...string) string { t.Helper(); return gitIn(t, dir, args...) }
			if _, err := os.Stat(remote); err != nil {
				gitIn(t, filepath.Dir(remote), "clone", "-q", "--bare", dir, remote)
			} else {
				git("push", "-q", "--force", remote, "HEAD:refs/heads/main")
			}
			if version != "" {
				git("tag", version)
				git("push", "-q", remote, "refs/tags/"+version)
			}
			p.source = strings.TrimSpace(git("rev-parse", "HEAD"))
			data, _ := json.Marshal(map[string]any{"ref": ref, "after": p.source,
				"repository": map[string]any{"full_name": publishRepository}})
			if err := os.WriteFile(event, data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	})
	return p
}

// gitIn runs git in dir and returns its output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + systemPath, "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copyThisRepository copies what git tracks (and what it does not ignore) of this working tree: the source
// that a maintainer tags.
func copyThisRepository(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(gitIn(t, root, "ls-files", "-co", "--exclude-standard", "-z"), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("copying %s: %v (mode %v)", rel, err, fi.Mode())
		}
		mustMkdir(t, filepath.Dir(filepath.Join(dst, rel)))
		copyFile(t, filepath.Join(root, rel), filepath.Join(dst, rel), fi.Mode().Perm())
	}
	return dst
}

// TestPublish runs .github/workflows/publish.yml under act as GitHub would on a maintainer's push of v1.2.3:
// the action image is built with slipway build, pushed to the registry (standing in for ghcr.io), signed and
// attested keyless through the test's Sigstore, verified; then the two release commits and the tags reach the
// bare repository standing in for GitHub. The test checks every part of that from outside: the tags, what the
// release commits change, the pinned action.yml files, the registry's image and its signature (slipway verify
// with a policy of its own), that rebuilding the tagged commit gives the same image digest, and that the
// release's actions/setup installs the image's binary and checks it. A second release, v1.2.4, whose verify step
// trusts the wrong Sigstore, fails before any tag moves.
func TestPublish(t *testing.T) {
	takeTurn(t)
	env := requireEnv(t)
	reg := registry.Start(t)
	ss := sigstoretest.Start(t, sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer))
	trustedRoot := ss.WriteTrustedRoot(t)
	src := copyThisRepository(t, env.repoRoot)
	remote := filepath.Join(t.TempDir(), "actions.git")

	p := runPublish(t, src, remote, reg, "v1.2.3", ss, trustedRoot)
	p.RequireSuccess(t)
	git := func(args ...string) string { t.Helper(); return strings.TrimSpace(gitIn(t, remote, args...)) }

	// The tags: v1.2.3 and v1 name the release commit R2, whose parent R1 pins the image, whose parent is the source.
	r2 := git("rev-parse", "refs/tags/v1.2.3^{commit}")
	if got := git("rev-parse", "refs/tags/v1^{commit}"); got != r2 {
		t.Errorf("v1 = %s, want the release commit %s", got, r2)
	}
	r1 := git("rev-parse", r2+"^")
	if got := git("rev-parse", r1+"^"); got != p.source {
		t.Fatalf("the release commits sit on %s, want the tagged source %s", got, p.source)
	}
	if got := git("diff", "--name-only", p.source, r1); !regexp.MustCompile(`^((action\.yml|actions/[a-z][a-z-]*/action\.yml|actions/image\.env)\n?)+$`).MatchString(got) {
		t.Errorf("the first release commit changes %q, want only the action.yml files and actions/image.env", got)
	}
	// R2 pins the reusable workflows that use our actions: release.yml and hpc-run.yml.
	reusable := []string{".github/workflows/hpc-run.yml", ".github/workflows/release.yml"}
	if got, want := git("diff", "--name-only", r1, r2), strings.Join(reusable, "\n"); got != want {
		t.Errorf("the second release commit changes %q, want only %q", got, want)
	}

	// The image: in the registry under 1.2.3, by the digest every action of R1 names.
	pin, err := cli.ParsePin(strings.NewReader(git("show", r1+":"+cli.PinFile)), cli.PinFile)
	if err != nil {
		t.Fatal(err)
	}
	digest := tagDigest(t, p.imageRepo+":1.2.3")
	if want := p.imageRepo + "@" + digest; pin.Image != want {
		t.Fatalf("R1's actions/image.env pins %q, want %q", pin.Image, want)
	}
	for rel := range cli.GeneratedActions(cli.Commands(), pin.Image) {
		if data := git("show", r1+":"+rel); !strings.Contains(data, `image: "docker://`+pin.Image+`"`) {
			t.Errorf("R1's %s does not run %s", rel, pin.Image)
		}
	}
	for _, wf := range reusable {
		uses := regexp.MustCompile(`(?m)^\s*(?:- )?uses: slipway/actions[^@\s]*@(\S+)`).FindAllStringSubmatch(git("show", r2+":"+wf), -1)
		if len(uses) == 0 {
			t.Fatalf("R2's %s uses none of our actions", wf)
		}
		for _, u := range uses {
			if u[1] != r1 {
				t.Errorf("R2's %s: %q, want every use of our actions at %s", wf, u[0], r1)
			}
		}
	}

	// The signature and provenance, checked here with a policy of the test's own.
	verifyPublished(t, p, pin.Image)

	// Reproducible: the tagged source, built again here, gives the same image and binary. The builder that
	// runs the build is the one scripts/image compiled from this tree for the other tests (the tagged source is
	// a copy of this tree): it compiles and assembles, what it builds is the clone's.
	ensureImage(t, env)
	repro := filepath.Join(t.TempDir(), "repro")
	gitIn(t, filepath.Dir(repro), "clone", "-q", remote, repro)
	gitIn(t, repro, "checkout", "-q", p.source)
	out := runIn(t, repro, []string{"SLIPWAY_IMAGE_LOAD=0", "SLIPWAY_VERSION=v1.2.3", "SLIPWAY_BUILDER=" + filepath.Join(env.repoRoot, "bin", "builder", "slipway")},
		filepath.Join(repro, "scripts", "image"))
	if !strings.Contains(out, "image-digest="+digest+"\n") || !strings.Contains(out, "slipway-sha256="+pin.SlipwaySHA256+"\n") {
		t.Errorf("rebuilding %s gave\n%s\nwant image-digest=%s and slipway-sha256=%s", p.source, out, digest, pin.SlipwaySHA256)
	}

	// The release's actions/setup: the image by digest from the registry, its binary checked.
	runIn(t, t.TempDir(), nil, env.podman, "pull", "-q", "--tls-verify=false", pin.Image)
	t.Cleanup(func() { exec.Command(env.podman, "rmi", pin.Image).Run() }) // the registry's random port names it: not needed again
	checkout := filepath.Join(t.TempDir(), "r1")
	gitIn(t, filepath.Dir(checkout), "clone", "-q", remote, checkout)
	gitIn(t, checkout, "checkout", "-q", r1)
	if out, _, err := setupStep(t, env, filepath.Join(checkout, "actions", "setup")); err != nil || !strings.Contains(out, "checked=true") || !strings.Contains(out, "sha256="+pin.SlipwaySHA256) {
		t.Errorf("R1's actions/setup: %v\n%s\nwant the binary %s, checked", err, out, pin.SlipwaySHA256)
	}

	// A release whose image does not verify moves no tag: v1.2.4 trusts another Sigstore's root.
	other := sigstoretest.Start(t, sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)).WriteTrustedRoot(t)
	bad := runPublish(t, src, remote, reg, "v1.2.4", ss, other)
	if bad.Err == nil {
		t.Fatal("publish of v1.2.4 with a verify step that trusts another Sigstore succeeded")
	}
	if failed := strings.Join(bad.FailedSteps(), "; "); !strings.Contains(failed, "(Verify the image)") || strings.Contains(failed, "(Pin") {
		t.Errorf("failed steps of v1.2.4: %s; want the verify step, before any pin or tag step", failed)
	}
	if got := git("rev-parse", "refs/tags/v1^{commit}"); got != r2 {
		t.Errorf("after a failed v1.2.4, v1 = %s, want it still at %s", got, r2)
	}
	if got := git("rev-parse", "refs/tags/v1.2.4^{commit}"); got != bad.source {
		t.Errorf("after a failed v1.2.4, the tag names %s, want the source %s untouched", got, bad.source)
	}
}

// verifyPublished runs slipway verify --image on what run p published, with a policy of the test's own: the
// publish workflow at the run's ref is the only signer and builder, this repository the source.
func verifyPublished(t *testing.T, p publishRun, image string) {
	t.Helper()
	policy := writeFile(t, "policy.yaml", fmt.Sprintf(`apiVersion: slipway.dev/v1
kind: TrustPolicy
identities:
  - name: publish
    issuer: %s
    subject: https://github.com/%s
builders: [%s]
sourceRepositories: [git+https://github.com/%s]
trustedRoot: %s
tlog: required
`, sigstoretest.GitHubIssuer, p.jobWorkflow, builderID, publishRepository, p.trustedRoot))
	ensureImage(t, requireEnv(t)) // bin/slipway, compiled from this tree once for every test
	if out := runIn(t, t.TempDir(), nil, slipwayBinary(t), "verify", "--image", image, "--policy", policy); !strings.Contains(out, "verified=true") {
		t.Errorf("slipway verify --image %s:\n%s", image, out)
	}
}

// TestPublishMain runs publish.yml for a push to main: the image main's actions name (ghcr.io/slipway/actions:main,
// here in the loopback registry) is built, pushed, signed, attested and verified, and nothing in git changes: no
// release commit, no tag.
func TestPublishMain(t *testing.T) {
	takeTurn(t)
	env := requireEnv(t)
	reg := registry.Start(t)
	ss := sigstoretest.Start(t, sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer))
	remote := filepath.Join(t.TempDir(), "actions.git")
	p := runPublish(t, copyThisRepository(t, env.repoRoot), remote, reg, "", ss, ss.WriteTrustedRoot(t))
	p.RequireSuccess(t)
	for _, s := range p.Steps {
		if strings.HasPrefix(s.Name, "Pin") || strings.HasPrefix(s.Name, "Point") {
			if s.Result != "skipped" {
				t.Errorf("step %q: %s, want it skipped on main", s.Name, s.Result)
			}
		}
	}
	if tags := gitIn(t, remote, "tag", "--list"); tags != "" {
		t.Errorf("publishing main made tags: %q", tags)
	}
	if got := strings.TrimSpace(gitIn(t, remote, "rev-parse", "refs/heads/main")); got != p.source {
		t.Errorf("main is %s after publishing, want the pushed %s", got, p.source)
	}
	verifyPublished(t, p, p.imageRepo+"@"+tagDigest(t, p.imageRepo+":main"))
}

// runIn runs a program in dir with the system PATH (plus Go's and git's), the host's Go caches and extra
// environment, and returns its standard output; it fails the test on an error.
func runIn(t *testing.T, dir string, extra []string, name string, args ...string) string {
	t.Helper()
	goTool := tools.Require(t, "go")
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + filepath.Dir(goTool) + ":" + systemPath, "HOME=" + t.TempDir(),
		"GOCACHE=" + strings.TrimSpace(run(t, goTool, "env", "GOCACHE")),
		"GOMODCACHE=" + strings.TrimSpace(run(t, goTool, "env", "GOMODCACHE")),
		"GOTOOLCHAIN=local", "GOPROXY=off"}, extra...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
