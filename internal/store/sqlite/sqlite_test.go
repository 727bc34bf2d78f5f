package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	now := time.UnixMilli(1_700_000_000_000).UTC()
	tok := store.Token{ID: "abc", Name: "ci", Hash: "$argon2id$x", Scopes: []string{"upload", "read"}, Created: now, Expires: now.Add(time.Hour)}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, tok); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	got, err := db.Token(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "ci" || got.Hash != tok.Hash || strings.Join(got.Scopes, ",") != "upload,read" ||
		!got.Created.Equal(now) || !got.Expires.Equal(tok.Expires) || !got.Revoked.IsZero() {
		t.Errorf("read back %+v, want %+v", got, tok)
	}
	if _, err := db.Token(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing token: %v, want ErrNotFound", err)
	}
	if err := db.RevokeToken(ctx, "abc", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, "abc", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Token(ctx, "abc"); !got.Revoked.Equal(now.Add(time.Minute)) {
		t.Errorf("revoked at %v, want the first revocation %v", got.Revoked, now.Add(time.Minute))
	}
	if err := db.RevokeToken(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking a missing token: %v, want ErrNotFound", err)
	}
	list, err := db.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "abc" {
		t.Errorf("Tokens() = %+v, %v", list, err)
	}
}

func TestReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	r := store.Release{ID: "r1", SourceRepository: "github.com/o/r", Uploader: "ci", ManifestDigest: "sha256:aa",
		Created: time.UnixMilli(5).UTC(), Artifacts: []store.Artifact{{Digest: "sha256:bb", Size: 3, Name: "bin/a"}, {Digest: "sha256:cc", Size: 4, Name: "bin/b"}}}
	if err := db.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	dup := r
	dup.ID = "r2"
	if err := db.CreateRelease(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("same manifest again: %v, want ErrExists", err)
	}
	bad := store.Release{ID: "r3", ManifestDigest: "sha256:dd", Artifacts: []store.Artifact{{Name: "x"}, {Name: "x"}}}
	if err := db.CreateRelease(ctx, bad); err == nil {
		t.Error("a release naming one artifact twice was recorded")
	}
	if _, err := db.Release(ctx, "r3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused release is visible: %v", err)
	}
	if a, err := db.ArtifactByDigest(ctx, "sha256:cc"); err != nil || a.Name != "bin/b" || a.Size != 4 {
		t.Errorf("ArtifactByDigest = %+v, %v", a, err)
	}
	if _, err := db.ArtifactByDigest(ctx, "sha256:ff"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ArtifactByDigest(unknown) = %v, want ErrNotFound", err)
	}
	for _, get := range []func() (store.Release, error){
		func() (store.Release, error) { return db.Release(ctx, "r1") },
		func() (store.Release, error) { return db.ReleaseByManifest(ctx, "sha256:aa") },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "r1" || got.Uploader != "ci" || len(got.Artifacts) != 2 || got.Artifacts[1] != r.Artifacts[1] {
			t.Errorf("read back %+v", got)
		}
	}
}

// An older binary must not write into a schema it does not know.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTemp(t)
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	next := SchemaVersion() + 1
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, next); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(ctx, path)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != next || tooNew.Binary != SchemaVersion() {
		t.Fatalf("Open on a newer schema: %v, want SchemaTooNewError", err)
	}
	if !strings.Contains(err.Error(), "newer than the") || !strings.Contains(err.Error(), "restore a backup") {
		t.Errorf("message %q does not say what to do", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTemp(t)
	if err := db.CreateToken(ctx, store.Token{ID: "k", Name: "n", Hash: "h", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Token(ctx, "k"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if err := db2.Ping(ctx); err != nil {
		t.Error(err)
	}
}

// Writers queue on the one write connection and readers run beside them:
// no "database is locked" under concurrent use.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	errs := make(chan error, 64)
	for i := range 32 {
		go func() {
			id := fmt.Sprintf("t%02d", i)
			if err := db.CreateToken(ctx, store.Token{ID: id, Name: "n", Hash: "h", Created: time.Now()}); err != nil {
				errs <- err
				return
			}
			_, err := db.Token(ctx, id)
			errs <- err
		}()
		go func() {
			_, err := db.Tokens(ctx)
			errs <- err
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if list, _ := db.Tokens(ctx); len(list) != 32 {
		t.Errorf("%d tokens, want 32", len(list))
	}
}
