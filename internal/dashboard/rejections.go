package dashboard

import (
	"net/http"
	"strings"
	"time"
)

func (d *Dashboard) rejectionPages() []page {
	return []page{{Pattern: "GET /ui/rejections", Handler: d.rejectionList}}
}

// Rejection is a refused admission, as GET /api/v1/rejections answers it;
// its log entry (release-rejected) is the record.
type Rejection struct {
	LogIndex       uint64    `json:"logIndex"`
	Created        time.Time `json:"created"`
	ReleaseID      string    `json:"releaseId"`
	ManifestDigest string    `json:"manifestDigest"`
	Repository     string    `json:"repository"`
	Uploader       string    `json:"uploader"`
	Check          string    `json:"check"`
	Subject        string    `json:"subject"`
	Detail         string    `json:"detail"`
}

// rejectionListData is the data of rejections.html.
type rejectionListData struct {
	Repository, Since, Until string
	Rejections               []Rejection
	Next, First              string
	// Error is why the search was refused (a bad time, or the API's 400).
	Error string
}

// rejectionList is GET /ui/rejections: refused admissions newest first,
// searched by repository and time, in the API's keyset pages; each links
// to its log entry.
func (d *Dashboard) rejectionList(w http.ResponseWriter, r *http.Request, s *session) error {
	in := r.URL.Query()
	q := newListQuery("/ui/rejections", in, d.o.PageSize)
	q.search("repository", in.Get("repository"), false)
	q.search("since", in.Get("since"), true)
	q.search("until", in.Get("until"), true)
	data := rejectionListData{Repository: q.Here.Get("repository"), Since: q.Here.Get("since"), Until: q.Here.Get("until"), First: q.First}
	if len(q.Bad) > 0 {
		data.Error = strings.Join(q.Bad, "; ")
		return d.renderStatus(w, r, s, http.StatusBadRequest, "rejections.html", "layout.html", data)
	}
	var page struct {
		Rejections []Rejection `json:"rejections"`
		Next       string      `json:"next"`
	}
	err := d.client(s).JSON(r.Context(), "listing rejections", "GET", "/api/v1/rejections", q.API, nil, &page)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusBadRequest {
		data.Error = ae.Detail
		return d.renderStatus(w, r, s, http.StatusBadRequest, "rejections.html", "layout.html", data)
	}
	if err != nil {
		return err
	}
	data.Rejections, data.Next = page.Rejections, q.next(page.Next)
	return d.render(w, r, s, "rejections.html", data)
}
