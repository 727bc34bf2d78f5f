package ghpublish

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// attach uploads f unless old, the asset of the same name, has its
// content; other content is an error unless Replace.
func (p *publisher) attach(ctx context.Context, release int64, f *file, old *github.ReleaseAsset) (Asset, error) {
	a := Asset{Name: f.name, Path: f.path, Role: f.role, Action: Uploaded, Digest: f.digest}
	if old != nil {
		if old.GetState() == "uploaded" {
			same, err := p.sameContent(ctx, old, f)
			if err != nil {
				return a, err
			}
			if same {
				a.Action, a.URL = Kept, old.GetBrowserDownloadURL()
				p.o.Log.Info("asset already there with the same content: kept", "asset", f.name)
				return a, nil
			}
			if !p.o.Replace {
				return a, fmt.Errorf("release asset %q exists with other content than %q (%s); publish another tag, or set replace to overwrite it", f.name, f.path, f.digest)
			}
			a.Action = Replaced
		}
		// Replaced, or an upload that never finished (state starter),
		// which GitHub wants deleted before the name is used again.
		if err := p.delete(ctx, old); err != nil {
			return a, err
		}
	}
	up, err := p.upload(ctx, release, f)
	if err != nil {
		return a, err
	}
	a.URL = up.GetBrowserDownloadURL()
	p.o.Log.Info("uploaded the asset", "asset", f.name, "action", string(a.Action), "digest", f.digest.String())
	return a, nil
}

// sameContent compares the asset's size, then its bytes' digest, with f.
func (p *publisher) sameContent(ctx context.Context, old *github.ReleaseAsset, f *file) (bool, error) {
	if int64(old.GetSize()) != f.size {
		return false, nil
	}
	var same bool
	err := p.c.Do(ctx, fmt.Sprintf("downloading release asset %q to compare it", old.GetName()), true, func(ctx context.Context) (*github.Response, error) {
		rc, _, err := p.c.Repositories.DownloadReleaseAsset(ctx, p.owner, p.repo, old.GetID(), p.o.HTTP)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		s := digest.New()
		if _, err := io.Copy(s, io.LimitReader(rc, f.size+1)); err != nil {
			return nil, err
		}
		same = s.Size() == f.size && s.Digest() == f.digest
		return nil, nil
	})
	return same, err
}

func (p *publisher) delete(ctx context.Context, old *github.ReleaseAsset) error {
	return p.c.Do(ctx, fmt.Sprintf("deleting release asset %q", old.GetName()), true, func(ctx context.Context) (*github.Response, error) {
		return p.c.Repositories.DeleteReleaseAsset(ctx, p.owner, p.repo, old.GetID())
	})
}

// upload sends f, hashing the bytes as they go; bytes other than f's
// recorded digest are deleted again and an error.
func (p *publisher) upload(ctx context.Context, release int64, f *file) (*github.ReleaseAsset, error) {
	var asset *github.ReleaseAsset
	var got digest.SHA256
	err := p.c.Do(ctx, fmt.Sprintf("uploading %q as release asset %q", f.path, f.name), false, func(ctx context.Context) (*github.Response, error) {
		// Opened per attempt: a retried upload starts from the first byte.
		fh, err := regfile.Open(f.abs)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		fi, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		if fi.Size() != f.size {
			return nil, fmt.Errorf("%q is %d bytes, its record says %d: it changed since it was recorded; run the stage that wrote it again", f.path, fi.Size(), f.size)
		}
		r := digest.NewReader(fh)
		u := fmt.Sprintf("repos/%s/%s/releases/%d/assets?%s", p.owner, p.repo, release, queryEscape(f.name, f.label))
		req, err := p.c.NewUploadRequest(u, r, f.size, f.mediaType)
		if err != nil {
			return nil, err
		}
		asset = new(github.ReleaseAsset)
		resp, err := p.c.Client.Do(ctx, req, asset)
		got = r.Digest()
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	if got != f.digest {
		derr := p.delete(ctx, asset)
		return nil, fmt.Errorf("%q changed while it was uploaded (sent %s, its record says %s): the asset was deleted again (%v); run the stage that wrote it again", f.path, got, f.digest, derr)
	}
	return asset, nil
}
