package githubfake

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed testdata/*.json
var recorded embed.FS

// Recorded returns a recorded response body of testdata/, decoded.
func Recorded(name string) map[string]any {
	b, err := recorded.ReadFile("testdata/" + name + ".json")
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("testdata/%s.json: %v", name, err))
	}
	return m
}

// Token is the only token the server accepts.
const Token = "ghs_fakeTokenForTestsOnly0123456789abcdef"

// Issue is an issue (or a pull request, which the issues API lists too).
type Issue struct {
	Number      int
	Title, Body string
	State       string // open or closed
	StateReason string
	Labels      []string
	PullRequest bool
	Comments    []string
}

// Release is a release with its assets.
type Release struct {
	ID  int64
	Tag string
	// Target is the release's target_commitish: the commit (or branch) a
	// tag that does not exist yet is created at.
	Target string
	Name   string
	Body   string
	Draft  bool
	Assets []*Asset
}

// Asset is an uploaded release asset.
type Asset struct {
	ID          int64
	Name, Label string
	ContentType string
	Data        []byte
}

// Deployment is a deployment with its statuses, oldest first.
type Deployment struct {
	ID          int64
	Ref, Task   string
	Environment string
	Description string
	Payload     json.RawMessage
	Statuses    []DeploymentStatus
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	State, Description, LogURL, Environment string
}

// Fault is an answer given instead of the route's own, once.
type Fault struct {
	Status int
	// Body names a recorded response of testdata/ ("rate_limit_primary").
	Body   string
	Header http.Header
}

// Server is the fake GitHub; its fields are its state, read them under Lock.
type Server struct {
	*httptest.Server
	sync.Mutex
	Owner, Repo string
	Issues      []*Issue
	Releases    []*Release
	Deployments []*Deployment
	// Requests are "METHOD PATH?QUERY" of every request, in order.
	Requests []string
	faults   map[string][]Fault
	nextID   int64
}

// New starts a fake GitHub holding one repository owner/repo; it stops
// with the test.
func New(t testing.TB, owner, repo string) *Server {
	s := &Server{Owner: owner, Repo: repo, faults: map[string][]Fault{}, nextID: 1000}
	mux := http.NewServeMux()
	p := "/repos/" + owner + "/" + repo
	mux.HandleFunc("GET "+p+"/issues", s.listIssues)
	mux.HandleFunc("POST "+p+"/issues", s.createIssue)
	mux.HandleFunc("PATCH "+p+"/issues/{number}", s.editIssue)
	mux.HandleFunc("POST "+p+"/issues/{number}/comments", s.createComment)
	mux.HandleFunc("POST "+p+"/releases", s.createRelease)
	// GET …/releases/tags/TAG and GET …/releases/ID/assets share a pattern.
	mux.HandleFunc("GET "+p+"/releases/{id}/{what}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("id") == "tags":
			s.releaseByTag(w, r, r.PathValue("what"))
		case r.PathValue("what") == "assets":
			s.listAssets(w, r)
		default:
			s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
		}
	})
	mux.HandleFunc("POST "+p+"/releases/{id}/assets", s.uploadAsset)
	mux.HandleFunc("GET "+p+"/releases/assets/{id}", s.getAsset)
	mux.HandleFunc("DELETE "+p+"/releases/assets/{id}", s.deleteAsset)
	mux.HandleFunc("GET /download/{id}", s.download)
	mux.HandleFunc("POST "+p+"/deployments", s.createDeployment)
	mux.HandleFunc("POST "+p+"/deployments/{id}/statuses", s.createStatus)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Lock()
		defer s.Unlock()
		s.Requests = append(s.Requests, r.Method+" "+r.URL.RequestURI())
		route := r.Method + " " + r.URL.Path
		if !strings.HasPrefix(r.URL.Path, "/download/") && r.Header.Get("Authorization") != "Bearer "+Token {
			s.write(w, http.StatusUnauthorized, nil, Recorded("bad_credentials"))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/repos/") {
			parts := strings.Split(r.URL.Path, "/")
			if len(parts) < 4 || parts[2] != owner || parts[3] != repo {
				s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
				return
			}
		}
		if fs := s.faults[route]; len(fs) > 0 {
			f := fs[0]
			s.faults[route] = fs[1:]
			s.write(w, f.Status, f.Header, Recorded(f.Body))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Fail queues f as the next answer to route ("POST /repos/o/r/issues").
func (s *Server) Fail(route string, f ...Fault) {
	s.Lock()
	defer s.Unlock()
	s.faults[route] = append(s.faults[route], f...)
}

// RateLimitHeaders are the headers of an exhausted primary rate limit
// resetting at reset.
func RateLimitHeaders(reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return h
}

func (s *Server) write(w http.ResponseWriter, status int, h http.Header, body any) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	if w.Header().Get("X-RateLimit-Limit") == "" {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		w.Header().Set("X-RateLimit-Resource", "core")
	}
	w.Header().Set("X-GitHub-Api-Version", "2022-11-28")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

// validation answers 422 as GitHub does, about one field.
func (s *Server) validation(w http.ResponseWriter, resource, code, field, doc string) {
	m := Recorded("validation_failed")
	m["errors"] = []any{map[string]any{"resource": resource, "code": code, "field": field}}
	m["documentation_url"] = doc
	s.write(w, http.StatusUnprocessableEntity, nil, m)
}

func (s *Server) api(r *http.Request) string {
	return "http://" + r.Host + "/repos/" + s.Owner + "/" + s.Repo
}
func (s *Server) html() string { return "https://github.com/" + s.Owner + "/" + s.Repo }

func (s *Server) id() int64 { s.nextID++; return s.nextID }

// paginate writes GitHub's Link header for page of per items out of n and
// returns the slice bounds.
func paginate(w http.ResponseWriter, r *http.Request, n int) (lo, hi int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	last := max((n+per-1)/per, 1)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo, hi = min((page-1)*per, n), min(page*per, n)
	return lo, hi
}

func decode(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v)
}
