package mirror

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
)

// Transport serves the copy to go-containerregistry (remote.WithTransport)
// as a read-only registry holding the image's repository and nothing but
// what Fetch stored: GET and HEAD of /v2/, of the manifests by digest and
// cosign's tags, of the blobs, and the referrers API for the image. Every
// other request is answered 404 (405 for a write), without touching the
// network.
func (c *Copy) Transport() http.RoundTripper { return served{c} }

// Digests are the digests of the manifests of the copy: the image's (and
// an index's children), its referrers' and cosign's tags'.
func (c *Copy) Digests() []digest.SHA256 {
	out := make([]digest.SHA256, 0, len(c.manifests))
	for d := range c.manifests {
		out = append(out, d)
	}
	return out
}

type served struct{ c *Copy }

func (s served) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return answer(req, http.StatusMethodNotAllowed, "UNSUPPORTED", "the copy is read-only"), nil
	}
	if req.URL.Host != s.c.Ref.RegistryStr() {
		return answer(req, http.StatusNotFound, "NAME_UNKNOWN", "not the copied registry"), nil
	}
	p := req.URL.Path
	if p == "/v2/" || p == "/v2" {
		return answer(req, http.StatusOK, "", ""), nil
	}
	rest, ok := strings.CutPrefix(p, "/v2/"+s.c.Ref.RepositoryStr()+"/")
	if !ok {
		return answer(req, http.StatusNotFound, "NAME_UNKNOWN", "not the copied repository"), nil
	}
	kind, id, _ := strings.Cut(rest, "/")
	switch kind {
	case "manifests":
		d, err := digest.Parse(id)
		if err != nil {
			var found bool
			if d, found = s.c.Tags[id]; !found {
				return answer(req, http.StatusNotFound, "MANIFEST_UNKNOWN", "no such tag in the copy"), nil
			}
		}
		m, ok := s.c.manifests[d]
		if !ok {
			return answer(req, http.StatusNotFound, "MANIFEST_UNKNOWN", "no such manifest in the copy"), nil
		}
		return s.blob(req, d, string(m.MediaType))
	case "blobs":
		d, err := digest.Parse(id)
		_, manifest := s.c.manifests[d]
		if err != nil || !(s.c.blobs[d] || manifest) {
			return answer(req, http.StatusNotFound, "BLOB_UNKNOWN", "no such blob in the copy"), nil
		}
		return s.blob(req, d, "application/octet-stream")
	case "referrers":
		var list []v1.Descriptor
		if id == s.c.Image.Digest.String() {
			list = s.c.Referrers
		}
		if list == nil {
			list = []v1.Descriptor{}
		}
		body, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: list})
		if err != nil {
			return nil, err
		}
		resp := answer(req, http.StatusOK, "", "")
		resp.Header.Set("Content-Type", string(types.OCIImageIndex))
		resp.ContentLength = int64(len(body))
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		return resp, nil
	}
	return answer(req, http.StatusNotFound, "NAME_UNKNOWN", "not served by the copy"), nil
}

// blob answers with a stored blob, streamed from the blob store.
func (s served) blob(req *http.Request, d digest.SHA256, mediaType string) (*http.Response, error) {
	r, err := s.c.store.Open(req.Context(), d)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the blob store: %w", d, err)
	}
	resp := answer(req, http.StatusOK, "", "")
	resp.Header.Set("Content-Type", mediaType)
	resp.Header.Set("Docker-Content-Digest", d.String())
	resp.Header.Set("Content-Length", strconv.FormatInt(r.Size(), 10))
	resp.ContentLength = r.Size()
	if req.Method == http.MethodHead {
		r.Close()
		return resp, nil
	}
	resp.Body = r
	return resp, nil
}

// answer is a response with an OCI error body when code is set.
func answer(req *http.Request, status int, code, msg string) *http.Response {
	resp := &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Request: req, Body: http.NoBody}
	if code != "" {
		body := fmt.Sprintf(`{"errors":[{"code":%q,"message":%q}]}`, code, msg)
		resp.Header.Set("Content-Type", "application/json")
		resp.ContentLength = int64(len(body))
		if req.Method != http.MethodHead {
			resp.Body = io.NopCloser(strings.NewReader(body))
		}
	}
	return resp
}
