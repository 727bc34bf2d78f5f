package push

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/exitcode"
)

// uploads are the requests that send blob content: POST, PATCH and PUT of
// /blobs/uploads/ (a POST with mount= that the registry answers 201 is a
// mount, reported apart).
func uploads(requests []string) (sends, mounts []string) {
	for _, r := range requests {
		method, uri, _ := strings.Cut(r, " ")
		if !strings.Contains(uri, "/blobs/uploads/") {
			continue
		}
		if method == "POST" && strings.Contains(uri, "mount=") {
			mounts = append(mounts, r)
			continue
		}
		sends = append(sends, r)
	}
	return sends, mounts
}

// settledWorkspace writes a big and a small file and waits until their
// times are older than the digest cache's racy window, as a build's output
// is by the time it is pushed.
func settledWorkspace(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "dist/big.bin", randomBytes(t, size))
	writeFile(t, dir, "dist/notes.txt", []byte("notes"))
	buildManifest(t, dir, "dist/big.bin", "dist/notes.txt")
	p, err := layout.Write(filepath.Join(dir, "image"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(testImage(t, int64(size))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(digestcache.RacyWindow + 100*time.Millisecond)
	return dir
}

// TestRePushUploadsNothing pushes content, then the same content under a
// new tag of the same repository, through a recording proxy in front of a
// real registry: the second push sends no blob and, when a record gives the
// digests (build manifest, digest cache, layout), reads no file.
func TestRePushUploadsNothing(t *testing.T) {
	t.Parallel()
	const size = 3 << 20
	dir := settledWorkspace(t, size)
	addr := startRegistry(t)
	tests := []struct {
		name    string
		subject []string
		mani    bool
		cache   bool
		// wantRead is how much of dist/big.bin the second push reads.
		wantRead int64
	}{
		{"subject, digest cache", []string{"dist/big.bin", "dist/notes.txt"}, false, true, 0},
		{"subject, no cache: one hashing pass", []string{"dist/big.bin", "dist/notes.txt"}, false, false, size},
		{"build manifest", nil, true, false, 0},
		{"subject with the build manifest", []string{"dist/big.bin"}, true, false, 0},
		{"OCI layout", []string{"oci-layout:image"}, false, false, -1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp, proxy := startFaultProxy(t, addr, 0)
			repo := proxy + "/slipway/repush" + string(rune('a'+i))
			work := dir
			if tc.mani {
				work = copyWorkspace(t, dir) // the push adds its record to the manifest
			}
			pc := pushCase{work: work, subject: tc.subject, mani: tc.mani}
			if tc.cache {
				pc.cache = digestcache.New(filepath.Join(t.TempDir(), "cache"))
			}
			push := func(tag string) *Result { return pc.push(t, repo+":"+tag, nil) }
			first := push("v1")
			if sends, _ := uploads(mustSince(fp, 0)); len(sends) == 0 {
				t.Fatal("the first push uploaded nothing: the test would prove nothing")
			}
			_, n := fp.since(0)
			second := push("v2")
			requests, _ := fp.since(n)
			if sends, mounts := uploads(requests); len(sends)+len(mounts) != 0 {
				t.Errorf("second push sent blobs: %q", append(sends, mounts...))
			}
			if second.Status != Pushed || second.Digest != first.Digest {
				t.Errorf("second push = %s %s, want %s %s", second.Status, second.Digest, Pushed, first.Digest)
			}
			for _, b := range second.Blobs {
				if b.Transfer != Present {
					t.Errorf("blob %s: %s, want %s", b.Digest, b.Transfer, Present)
				}
			}
			for _, f := range second.Files {
				if f.Name == "dist/big.bin" && f.BytesRead != tc.wantRead {
					t.Errorf("the second push read %d bytes of %s, want %d", f.BytesRead, f.Name, tc.wantRead)
				}
			}
			t.Logf("second push: %d requests: %q", len(requests), requests)
		})
	}
}

// TestMountAcrossRepositories pushes content to one repository, then to
// another of the same registry: each blob the second one lacks is mounted
// (POST ?mount=&from=, no PATCH), from an explicit mount-from, from the
// repository that the build manifest records a push to, or from the one
// the digest cache remembers.
func TestMountAcrossRepositories(t *testing.T) {
	t.Parallel()
	const size = 3 << 20
	dir := settledWorkspace(t, size)
	addr := startRegistry(t)
	tests := []struct {
		name      string
		subject   []string
		mani      bool
		cache     bool
		mountFrom bool
	}{
		{"mount-from", []string{"dist/big.bin", "dist/notes.txt"}, false, false, true},
		{"build manifest record", nil, true, false, false},
		{"digest cache", []string{"dist/big.bin", "dist/notes.txt"}, false, true, false},
		{"OCI layout, mount-from", []string{"oci-layout:image"}, false, false, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp, proxy := startFaultProxy(t, addr, 0)
			work := dir
			if tc.mani {
				work = copyWorkspace(t, dir) // the push adds its record to the manifest
			}
			pc := pushCase{work: work, subject: tc.subject, mani: tc.mani}
			if tc.cache {
				pc.cache = digestcache.New(filepath.Join(t.TempDir(), "cache"))
			}
			src := proxy + "/slipway/mount-src" + string(rune('a'+i))
			dst := proxy + "/slipway/mount-dst" + string(rune('a'+i))
			push := func(ref string, mountFrom []string) *Result { return pc.push(t, ref, mountFrom) }
			first := push(src+":v1", nil)
			_, n := fp.since(0)
			var from []string
			if tc.mountFrom {
				from = []string{src}
			}
			second := push(dst+":v1", from)
			requests, _ := fp.since(n)
			sends, mounts := uploads(requests)
			if len(sends) != 0 {
				t.Errorf("second push sent blob content: %q", sends)
			}
			if len(mounts) == 0 {
				t.Fatalf("no mount in %q", requests)
			}
			srcRepo := strings.TrimPrefix(src, proxy+"/")
			for _, m := range mounts {
				if !strings.Contains(m, "from="+strings.ReplaceAll(srcRepo, "/", "%2F")) || !strings.Contains(m, "/"+strings.TrimPrefix(dst, proxy+"/")+"/blobs/uploads/") {
					t.Errorf("mount %q is not from %s into %s", m, srcRepo, dst)
				}
			}
			if second.Digest != first.Digest {
				t.Errorf("second push = %s, want %s", second.Digest, first.Digest)
			}
			for _, b := range second.Blobs {
				if b.Transfer == Uploaded {
					t.Errorf("blob %s was uploaded", b.Digest)
				}
			}
			for _, f := range second.Files {
				// Without a record of its digest, a file is hashed once.
				wantRead := f.Size
				if tc.mani || tc.cache {
					wantRead = 0
				}
				if f.Transfer != Mounted || f.MountedFrom != src || f.BytesRead != wantRead {
					t.Errorf("%s: %s from %q, %d bytes read; want mounted from %s, %d bytes read", f.Name, f.Transfer, f.MountedFrom, f.BytesRead, src, wantRead)
				}
			}
		})
	}
}

// TestMountFromFallsBack: a mount source that lacks the blob is skipped
// (the blob is uploaded); one on another registry is refused as bad input.
func TestMountFromFallsBack(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "app", randomBytes(t, 1000))
	o := opts(t, dir, addr+"/slipway/fallback:v1", "app")
	o.MountFrom = []string{addr + "/slipway/empty"}
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Files[0]; f.Transfer != Uploaded || f.MountedFrom != "" {
		t.Errorf("app: %s from %q, want uploaded", f.Transfer, f.MountedFrom)
	}

	o.MountFrom = []string{"ghcr.io/owner/base"}
	_, err = Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), `input "mount-from": repository "ghcr.io/owner/base" is on registry ghcr.io`) ||
		!strings.Contains(err.Error(), "only be mounted within one registry") {
		t.Errorf("mount-from on another registry: exit %d, %v; want exit 2 naming both registries", exitcode.Of(err), err)
	}
}

// pushCase is how a test case pushes: which files, with the build manifest
// or not, with which digest cache.
type pushCase struct {
	work    string
	subject []string
	mani    bool
	cache   *digestcache.Cache
}

func (pc pushCase) push(t *testing.T, ref string, mountFrom []string) *Result {
	t.Helper()
	o := opts(t, pc.work, ref)
	var err error
	if o.Subject, err = ParseSubject(pc.subject); err != nil {
		t.Fatal(err)
	}
	if pc.mani {
		o.Manifest = "dist/manifest.json"
	}
	o.DigestCache, o.MountFrom = pc.cache, mountFrom
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("push to %s: %v", ref, err)
	}
	return res
}

// copyWorkspace copies the files of a settled workspace and writes their
// build manifest anew.
func copyWorkspace(t *testing.T, dir string) string {
	t.Helper()
	work := t.TempDir()
	for _, f := range []string{"dist/big.bin", "dist/notes.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, work, f, b)
	}
	buildManifest(t, work, "dist/big.bin", "dist/notes.txt")
	return work
}

func mustSince(fp *faultProxy, n int) []string {
	r, _ := fp.since(n)
	return r
}
