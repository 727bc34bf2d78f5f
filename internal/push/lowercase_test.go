package push

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestPushLowercasesRepository pushes to a real registry with the reference a workflow builds from
// ghcr.io/${{ github.repository }} for a repository with capitals: the repository path is lowercased (OCI names
// are lower case), the tag keeps its case, the log says so, and pushing the same content again under the
// mixed-case reference finds it (already present).
func TestPushLowercasesRepository(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "dist/app", []byte("app\n"))
	var log bytes.Buffer
	o := opts(t, dir, addr+"/Slipway-E2E/Mixed_Case:V1.0-RC1", "dist/app")
	o.Log = slog.New(slog.NewTextHandler(&log, nil))
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("Push() error = %v", err)
	}
	if want := addr + "/slipway-e2e/mixed_case:V1.0-RC1"; res.Tag != want || !res.Lowercased {
		t.Errorf("Tag, Lowercased = %q, %t; want %q, true", res.Tag, res.Lowercased, want)
	}
	if want := addr + "/slipway-e2e/mixed_case@" + res.Digest.String(); res.PinnedRef != want {
		t.Errorf("PinnedRef = %q, want %q", res.PinnedRef, want)
	}
	if desc, _ := getManifest(t, res.Tag); desc.Digest.String() != res.Digest.String() {
		t.Errorf("the registry has %s under %s, push reported %s", desc.Digest, res.Tag, res.Digest)
	}
	if !strings.Contains(log.String(), "lowercased") || !strings.Contains(log.String(), "Slipway-E2E/Mixed_Case") {
		t.Errorf("the log does not say that the repository was lowercased:\n%s", log.String())
	}

	again, err := Push(context.Background(), o)
	if err != nil || again.Status != AlreadyPresent || again.Digest != res.Digest {
		t.Errorf("pushing again: %+v, %v; want already present", again, err)
	}
	o.Ref = addr + "/slipway-e2e/mixed_case:v1.0-rc1" // another tag: tags are case-sensitive
	other, err := Push(context.Background(), o)
	if err != nil || other.Status != Pushed || other.Lowercased {
		t.Errorf("pushing under the lower-case tag: %+v, %v; want a new tag, nothing lowercased", other, err)
	}
}
