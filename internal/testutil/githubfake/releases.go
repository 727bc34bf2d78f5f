package githubfake

import (
	"io"
	"net/http"
	"strconv"
)

func (s *Server) releaseJSON(r *http.Request, rel *Release) map[string]any {
	m := Recorded("release")
	id := strconv.FormatInt(rel.ID, 10)
	api := s.api(r) + "/releases/" + id
	m["id"], m["tag_name"], m["name"], m["body"], m["draft"] = rel.ID, rel.Tag, rel.Name, rel.Body, rel.Draft
	if rel.Target != "" {
		m["target_commitish"] = rel.Target
	}
	m["url"], m["assets_url"] = api, api+"/assets"
	m["upload_url"] = api + "/assets{?name,label}"
	m["html_url"] = s.html() + "/releases/tag/" + rel.Tag
	m["tarball_url"], m["zipball_url"] = s.api(r)+"/tarball/"+rel.Tag, s.api(r)+"/zipball/"+rel.Tag
	m["author"] = Recorded("user")
	assets := []any{}
	for _, a := range rel.Assets {
		assets = append(assets, s.assetJSON(r, rel, a))
	}
	m["assets"] = assets
	return m
}

func (s *Server) assetJSON(r *http.Request, rel *Release, a *Asset) map[string]any {
	m := Recorded("release_asset")
	id := strconv.FormatInt(a.ID, 10)
	m["id"], m["name"], m["label"], m["content_type"], m["size"] = a.ID, a.Name, a.Label, a.ContentType, len(a.Data)
	m["url"] = s.api(r) + "/releases/assets/" + id
	m["browser_download_url"] = "http://" + r.Host + "/download/" + id
	m["uploader"] = Recorded("user")
	m["download_count"] = 0
	return m
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) *Release {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rel := range s.Releases {
		if rel.ID == id {
			return rel
		}
	}
	s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
	return nil
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) (*Release, int) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rel := range s.Releases {
		for i, a := range rel.Assets {
			if a.ID == id {
				return rel, i
			}
		}
	}
	s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
	return nil, -1
}

func (s *Server) releaseByTag(w http.ResponseWriter, r *http.Request, tag string) {
	for _, rel := range s.Releases {
		if rel.Tag == tag {
			s.write(w, http.StatusOK, nil, s.releaseJSON(r, rel))
			return
		}
	}
	s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
}

func (s *Server) createRelease(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tag    string `json:"tag_name"`
		Target string `json:"target_commitish"`
		Name   string `json:"name"`
		Body   string `json:"body"`
		Draft  bool   `json:"draft"`
	}
	const doc = "https://docs.github.com/rest/releases/releases#create-a-release"
	if err := decode(r, &req); err != nil || req.Tag == "" {
		s.validation(w, "Release", "missing_field", "tag_name", doc)
		return
	}
	for _, rel := range s.Releases {
		if rel.Tag == req.Tag {
			s.validation(w, "Release", "already_exists", "tag_name", doc)
			return
		}
	}
	rel := &Release{ID: s.id(), Tag: req.Tag, Target: req.Target, Name: req.Name, Body: req.Body, Draft: req.Draft}
	s.Releases = append(s.Releases, rel)
	s.write(w, http.StatusCreated, nil, s.releaseJSON(r, rel))
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	rel := s.release(w, r)
	if rel == nil {
		return
	}
	lo, hi := paginate(w, r, len(rel.Assets))
	out := []any{}
	for _, a := range rel.Assets[lo:hi] {
		out = append(out, s.assetJSON(r, rel, a))
	}
	s.writeAny(w, http.StatusOK, out)
}

// uploadAsset is uploads.github.com's POST …/releases/ID/assets?name=N.
func (s *Server) uploadAsset(w http.ResponseWriter, r *http.Request) {
	rel := s.release(w, r)
	if rel == nil {
		return
	}
	name := r.URL.Query().Get("name")
	const doc = "https://docs.github.com/rest/releases/assets#upload-a-release-asset"
	if name == "" {
		s.validation(w, "ReleaseAsset", "missing_field", "name", doc)
		return
	}
	for _, a := range rel.Assets {
		if a.Name == name {
			s.validation(w, "ReleaseAsset", "already_exists", "name", doc)
			return
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil || int64(len(data)) != r.ContentLength {
		s.write(w, http.StatusBadRequest, nil, map[string]any{"message": "Bad Content-Length", "documentation_url": doc})
		return
	}
	a := &Asset{ID: s.id(), Name: name, Label: r.URL.Query().Get("label"), ContentType: r.Header.Get("Content-Type"), Data: data}
	rel.Assets = append(rel.Assets, a)
	s.write(w, http.StatusCreated, nil, s.assetJSON(r, rel, a))
}

// getAsset answers with the asset's JSON, or with Accept:
// application/octet-stream a 302 to where its bytes are (as GitHub does).
func (s *Server) getAsset(w http.ResponseWriter, r *http.Request) {
	rel, i := s.asset(w, r)
	if rel == nil {
		return
	}
	if r.Header.Get("Accept") == "application/octet-stream" {
		http.Redirect(w, r, "http://"+r.Host+"/download/"+strconv.FormatInt(rel.Assets[i].ID, 10), http.StatusFound)
		return
	}
	s.write(w, http.StatusOK, nil, s.assetJSON(r, rel, rel.Assets[i]))
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request) {
	rel, i := s.asset(w, r)
	if rel == nil {
		return
	}
	rel.Assets = append(rel.Assets[:i], rel.Assets[i+1:]...)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	rel, i := s.asset(w, r)
	if rel == nil {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(rel.Assets[i].Data)
}
