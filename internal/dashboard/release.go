package dashboard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/cpclient"
)

// file is one file of a release, as GET /api/v1/releases/{id}/files
// lists it.
type file struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
	Describes string `json:"describes"`
}

// check is one line of the verification report ("PASS signature
// app.bin.sigstore.json: sigstore bundle signed by …").
type check struct {
	Status, Name, Subject, Detail string
}

// Passed reports whether the check passed.
func (c check) Passed() bool { return c.Status == "PASS" }

// parseCheck splits a report line into its status, check, subject and
// detail; a line of another shape is all detail.
func parseCheck(line string) check {
	status, rest, ok := strings.Cut(line, " ")
	if !ok || status == "" || strings.ToUpper(status) != status {
		return check{Detail: line}
	}
	name, rest, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if !ok {
		return check{Detail: line}
	}
	subject, detail, ok := strings.Cut(strings.TrimLeft(rest, " "), ": ")
	if !ok {
		return check{Status: status, Name: name, Detail: strings.TrimLeft(rest, " ")}
	}
	return check{Status: status, Name: name, Subject: subject, Detail: detail}
}

// evidenceView is a provenance or SBOM file with what the page read of it.
type evidenceView[T any] struct {
	File    file
	Summary T
	// Error says why it could not be read; the checks still stand.
	Error string
}

// releaseData is the data of release.html.
type releaseData struct {
	Release    Release
	Checks     []check
	Failed     int
	Signers    []string
	Builders   []string
	Provenance []evidenceView[provSummary]
	SBOMs      []evidenceView[sbomSummary]
	Files      []file
}

var releaseID = regexp.MustCompile(`^r-[0-9a-f]{16}$`)

// releaseDetail is GET /ui/releases/{id}: the release, its verification
// report check by check, signers and builder (from the checks), source
// commit (from its provenance), SBOM summaries, files, receipt and log
// index. Provenance and SBOM summaries are cached by digest, so a page
// seen before costs two API calls.
func (d *Dashboard) releaseDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if !releaseID.MatchString(id) {
		return &pageError{Status: http.StatusNotFound, Detail: "a release id is r- and 16 hex digits"}
	}
	c := d.client(s)
	var data releaseData
	if err := c.JSON(r.Context(), "reading the release", "GET", "/api/v1/releases/"+id, nil, nil, &data.Release); err != nil {
		return err
	}
	var files struct {
		Files []file `json:"files"`
	}
	if err := c.JSON(r.Context(), "listing the release's files", "GET", "/api/v1/releases/"+id+"/files", nil, nil, &files); err != nil {
		return err
	}
	data.Files = files.Files
	for _, line := range data.Release.Checks {
		ch := parseCheck(line)
		data.Checks = append(data.Checks, ch)
		if ch.Status == "FAIL" {
			data.Failed++
		}
		if signer := strings.TrimPrefix(ch.Detail, "sigstore bundle "); ch.Name == "signature" && ch.Passed() && !slices.Contains(data.Signers, signer) {
			data.Signers = append(data.Signers, signer)
		}
	}
	seen := map[string]bool{}
	for _, f := range data.Files {
		if seen[f.Path] || f.Path == "" {
			continue
		}
		seen[f.Path] = true
		switch f.Role {
		case "provenance":
			v, err := readEvidence(r.Context(), d, c, id, f, parseProvenance)
			if err != nil {
				return err
			}
			if b := v.Summary.Builder; b != "" && !slices.Contains(data.Builders, b) {
				data.Builders = append(data.Builders, b)
			}
			data.Provenance = append(data.Provenance, v)
		case "sbom":
			v, err := readEvidence(r.Context(), d, c, id, f, parseSBOM)
			if err != nil {
				return err
			}
			data.SBOMs = append(data.SBOMs, v)
		}
	}
	return d.render(w, r, s, "release.html", data)
}

// readEvidence is the view of release id's file f as parse reads it; a
// file that cannot be read or parsed is shown with its error, except an
// API 401, which ends the session.
func readEvidence[T any](ctx context.Context, d *Dashboard, c *cpclient.Client, id string, f file, parse func(io.Reader) (T, error)) (evidenceView[T], error) {
	v := evidenceView[T]{File: f}
	sum, err := d.summary(ctx, c, id, f, func(rd io.Reader) (any, error) { return parse(rd) })
	switch {
	case cpclient.IsStatus(err, http.StatusUnauthorized):
		return v, err
	case err != nil:
		v.Error = err.Error()
	default:
		v.Summary = sum.(T)
	}
	return v, nil
}

// summary is parse's reading of release id's file f, from the cache by
// its digest or read through the API. A file that does not parse is
// cached too, as its error: its content cannot change.
func (d *Dashboard) summary(ctx context.Context, c *cpclient.Client, id string, f file, parse func(io.Reader) (any, error)) (any, error) {
	if v, ok := d.cache.get(f.Digest); ok {
		if err, bad := v.(error); bad {
			return nil, err
		}
		return v, nil
	}
	if f.Size > maxEvidence {
		return nil, errors.New("too large to summarize here; download it with slipway export")
	}
	var segs []string
	for _, p := range strings.Split(f.Path, "/") {
		segs = append(segs, url.PathEscape(p))
	}
	rc, err := c.Open(ctx, "reading "+f.Name, "/api/v1/releases/"+id+"/files/"+strings.Join(segs, "/"), nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	rd := &readErr{r: rc}
	v, err := parse(rd)
	if rd.err != nil {
		return nil, rd.err // the transfer failed: try again next time
	}
	if err != nil {
		d.cache.put(f.Digest, err)
		return nil, err
	}
	d.cache.put(f.Digest, v)
	return v, nil
}

// readErr remembers a read error other than EOF, so that a failed
// transfer is not cached as a file that does not parse.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
