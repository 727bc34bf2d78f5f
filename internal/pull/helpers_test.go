package pull_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/pull"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/verify"
)

// release is a workspace whose dist/ files were recorded in a build
// manifest, signed with a cosign key by the sign stage and pushed by the
// push stage: what slipway pull is for.
type release struct {
	ws     string            // the workspace it was made in
	files  map[string]string // name -> content of the artifacts
	pinned string
	policy *policy.Policy // trusts the key
	key    sigstoretest.CosignKey
}

func newRelease(t *testing.T, addr, repo string, files map[string]string) *release {
	t.Helper()
	ctx := context.Background()
	r := &release{ws: t.TempDir(), files: files, key: sigstoretest.NewCosignKey(t, "pw")}
	m := artifact.NewManifest()
	for name, content := range files {
		p := policytest.WriteFile(t, r.ws, name, []byte(content))
		d, n, err := digest.File(p)
		if err != nil {
			t.Fatal(err)
		}
		m.Add(artifact.Record{Name: name, Path: name, Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	}
	if err := m.WriteFile(filepath.Join(r.ws, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	sres, err := sign.Run(ctx, sign.Options{Manifest: "dist/manifest.json", Dir: r.ws,
		Sigstore: signing.Config{Key: r.key.PrivatePath, Password: "pw"}})
	if err != nil {
		t.Fatalf("sign.Run() = %v", err)
	}
	subjects := []string{"dist/manifest.json"}
	for name := range files {
		subjects = append(subjects, name)
	}
	for _, f := range sres.Files {
		for _, rec := range f.Records {
			subjects = append(subjects, rec.Path)
		}
	}
	res, err := push.Push(ctx, push.Options{Ref: addr + "/" + repo + ":v1", Subject: push.Subject{Files: subjects}, Manifest: "dist/manifest.json", Dir: r.ws})
	if err != nil {
		t.Fatalf("push.Push() = %v", err)
	}
	r.pinned = res.PinnedRef
	dir := t.TempDir()
	policytest.WriteFile(t, dir, "cosign.pub", r.key.PublicPEM)
	if r.policy, err = policy.Load(policytest.WriteFile(t, dir, "policy.yaml", []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n"))); err != nil {
		t.Fatal(err)
	}
	return r
}

// pullInto pulls ref into a new directory "out" of a fresh parent and
// returns the parent, the output directory and the outcome.
func pullInto(t *testing.T, o pull.Options) (string, string, *pull.Result, error) {
	t.Helper()
	parent := t.TempDir()
	if o.OutputDir == "" {
		o.OutputDir = filepath.Join(parent, "out")
	} else {
		parent = filepath.Dir(o.OutputDir)
	}
	res, err := pull.Pull(context.Background(), o)
	return parent, o.OutputDir, res, err
}

func verifier(p *policy.Policy) *verify.Verifier { return verify.New(p) }

// entries lists what is in dir (names, sorted).
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// rawLayer is a layer of a hand-made artifact: its content and the
// descriptor fields a hostile registry controls.
type rawLayer struct {
	content     string
	annotations map[string]string
	// size overrides the descriptor's size when not 0.
	size int64
}

// named is a layer named (and titled) name.
func named(name, content string) rawLayer {
	return rawLayer{content: content, annotations: map[string]string{push.AnnotationName: name, push.AnnotationTitle: lastPart(name)}}
}

func lastPart(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// pushArtifact uploads the layers' blobs and puts an OCI artifact manifest
// of artifactType push.ArtifactType over them, exactly as written, and
// returns its pinned reference.
func pushArtifact(t *testing.T, addr, repo string, layers []rawLayer) string {
	t.Helper()
	r, err := name.NewRepository(addr+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	cfg := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	if err := remote.WriteLayer(r, cfg); err != nil {
		t.Fatal(err)
	}
	cfgDigest, _ := cfg.Digest()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: push.ArtifactType,
		Config: v1.Descriptor{MediaType: types.OCIEmptyJSON, Size: 2, Digest: cfgDigest}}
	for _, l := range layers {
		sl := static.NewLayer([]byte(l.content), "application/octet-stream")
		if err := remote.WriteLayer(r, sl); err != nil {
			t.Fatal(err)
		}
		d, _ := sl.Digest()
		size := int64(len(l.content))
		if l.size != 0 {
			size = l.size
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: "application/octet-stream", Size: size, Digest: d, Annotations: l.annotations})
	}
	return putManifest(t, r, m)
}

// putManifest puts m into r by digest and returns the pinned reference.
func putManifest(t *testing.T, r name.Repository, m any) string {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	mt := types.OCIManifestSchema1
	if _, ok := m.(v1.IndexManifest); ok {
		mt = types.OCIImageIndex
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	ref := r.Digest(h.String())
	if err := remote.Put(ref, rawManifest{raw: raw, mt: mt}); err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// manifestOf is the JSON of a build manifest listing the files as
// artifacts, with their digests.
func manifestOf(t *testing.T, files map[string]string) string {
	t.Helper()
	m := artifact.NewManifest()
	for name, content := range files {
		d, n, err := digest.Copy(&bytes.Buffer{}, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		m.Add(artifact.Record{Name: name, Path: name, Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
