package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"crypto/sha256"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/token"
)

// apiDoc is the embedded OpenAPI document, with its schemas compiled by a
// JSON Schema 2020-12 validator (OpenAPI 3.1's schema dialect).
type apiDoc struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema // by JSON pointer
}

const docURL = "mem:///openapi.json"

var loadDoc = sync.OnceValues(func() (*apiDoc, error) {
	raw, err := server.OpenAPI()
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not JSON: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok || doc["openapi"] != "3.1.0" {
		return nil, fmt.Errorf("the OpenAPI document is not an OpenAPI 3.1.0 object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, v); err != nil {
		return nil, err
	}
	return &apiDoc{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
})

func mustDoc(t testing.TB) *apiDoc {
	t.Helper()
	d, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// schema compiles the schema at the JSON pointer ptr of the document.
func (d *apiDoc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ptr]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	d.schemas[ptr] = s
	return s, nil
}

// at returns the object at the JSON pointer ptr, following a $ref there.
func (d *apiDoc) at(ptr string) (map[string]any, string) {
	var cur any = d.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, ptr
		}
		cur = m[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
	}
	m, _ := cur.(map[string]any)
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		return d.at(ref[1:])
	}
	return m, ptr
}

func esc(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// docPath is the OpenAPI path and method of a ServeMux pattern: "{$}" is
// dropped, "{name...}" is "{name}", and a subtree pattern ("/log/") takes
// the rest of the path as {path}.
func docPath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	switch {
	case strings.HasSuffix(path, "{$}"):
		path = strings.TrimSuffix(path, "{$}")
	case strings.HasSuffix(path, "...}"):
		path = strings.TrimSuffix(path, "...}") + "}"
	case strings.HasSuffix(path, "/"):
		path += "{path}"
	}
	return strings.ToLower(method), path
}

// check validates one real answer against the document: the operation
// of the route that served it documents its status, its required headers
// are there, and a JSON body validates against the status's schema.
func (d *apiDoc) check(pattern string, method string, status int, h http.Header, body []byte) error {
	if pattern == "" {
		if status == http.StatusNotFound { // no route: the server's problem+json 404
			return d.validate("/components/schemas/Problem", body)
		}
		return nil
	}
	m, p := docPath(pattern)
	if method == http.MethodHead && m == "get" {
		body = nil
	}
	opPtr := "/paths/" + esc(p) + "/" + m
	if op, _ := d.at(opPtr); op == nil {
		return fmt.Errorf("%s is served but not in the OpenAPI document", pattern)
	}
	code := strconv.Itoa(status)
	resp, respPtr := d.at(opPtr + "/responses/" + code)
	if resp == nil {
		return fmt.Errorf("%s answered %d, a status its OpenAPI operation does not document", pattern, status)
	}
	if headers, ok := resp["headers"].(map[string]any); ok {
		for name := range headers {
			hd, _ := d.at(respPtr + "/headers/" + esc(name))
			if req, _ := hd["required"].(bool); req && h.Get(name) == "" {
				return fmt.Errorf("%s answered %d without the header %s the document requires", pattern, status, name)
			}
		}
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	content, _ := resp["content"].(map[string]any)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if content == nil {
		if len(body) > 0 && isJSON {
			return fmt.Errorf("%s answered %d with a %s body the document does not describe", pattern, status, mt)
		}
		return nil
	}
	if len(body) == 0 {
		if method == http.MethodHead || status == http.StatusNotModified {
			return nil
		}
		return fmt.Errorf("%s answered %d without the body the document describes", pattern, status)
	}
	key := mt
	if _, ok := content[key]; !ok {
		key = "*/*"
		if _, ok := content[key]; !ok {
			return fmt.Errorf("%s answered %d as %q, not a media type the document gives (%v)", pattern, status, mt, keys(content))
		}
	}
	if !isJSON || key == "*/*" { // a file's bytes, whatever they hold
		return nil
	}
	return d.validate(respPtr+"/content/"+esc(key)+"/schema", body)
}

func (d *apiDoc) validate(ptr string, body []byte) error {
	s, err := d.schema(ptr)
	if err != nil {
		return fmt.Errorf("compiling the document's schema at %s: %w", ptr, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the answer is not JSON (%v): %.200s", err, body)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("the answer does not match the document's schema %s: %v\n%.500s", ptr, err, body)
	}
	return nil
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// routeMux matches requests to the route table of a fully configured
// server, as the server's own ServeMux does.
var routeMux struct {
	once sync.Once
	mux  *http.ServeMux
}

func setRouteTable(routes []string) {
	routeMux.once.Do(func() {
		mux := http.NewServeMux()
		for _, p := range routes {
			mux.Handle(p, http.NotFoundHandler())
		}
		routeMux.mux = mux
	})
}

// checkAnswer fails t when a real answer to req drifts from the document;
// every request the tests send through do is checked.
func checkAnswer(t testing.TB, req *http.Request, status int, h http.Header, body []byte) {
	t.Helper()
	if routeMux.mux == nil {
		t.Fatal("no route table: start a site before sending requests")
	}
	_, pattern := routeMux.mux.Handler(req)
	if err := mustDoc(t).check(pattern, req.Method, status, h, body); err != nil {
		t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
	}
}

// TestOpenAPIRoutes: every route of a fully configured server is in the
// document, every operation of the document is a route, and the document
// is served without authentication.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	doc := mustDoc(t)
	served := map[string]bool{}
	for _, pattern := range site.srv.Routes() {
		m, p := docPath(pattern)
		served[m+" "+p] = true
		if op, _ := doc.at("/paths/" + esc(p) + "/" + m); op == nil {
			t.Errorf("route %q is not in the OpenAPI document (as %s %s)", pattern, m, p)
		}
	}
	paths, _ := doc.doc["paths"].(map[string]any)
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if !slices.Contains([]string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}, m) {
				continue
			}
			if !served[m+" "+p] {
				t.Errorf("the OpenAPI document has %s %s, which no route serves", strings.ToUpper(m), p)
			}
			// Every response schema compiles: its $refs resolve.
			responses, _ := item.(map[string]any)[m].(map[string]any)["responses"].(map[string]any)
			for code := range responses {
				resp, ptr := doc.at("/paths/" + esc(p) + "/" + m + "/responses/" + code)
				content, _ := resp["content"].(map[string]any)
				for mt := range content {
					if _, err := doc.schema(ptr + "/content/" + esc(mt) + "/schema"); err != nil {
						t.Errorf("%s %s %s %s: %v", m, p, code, mt, err)
					}
				}
			}
		}
	}
	code, body, hdr := do(t, "GET", site.url+"/api/v1/openapi.json", "", nil)
	want, _ := server.OpenAPI()
	if code != http.StatusOK || !bytes.Equal(body, want) || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("GET /api/v1/openapi.json: %d %q, %d bytes", code, hdr.Get("Content-Type"), len(body))
	}
	var parsed map[string]any
	if err := json.Unmarshal(body, &parsed); err != nil || parsed["openapi"] != "3.1.0" {
		t.Errorf("the served document is not OpenAPI 3.1 JSON: %v", err)
	}
}

// TestOpenAPIDetectsDrift: the checker refuses answers that differ from
// the document, so that a handler's drift fails the tests.
func TestOpenAPIDetectsDrift(t *testing.T) {
	t.Parallel()
	doc := mustDoc(t)
	release := `{"releaseId":"r-0123456789abcdef","logIndex":1,"receipt":"x","manifestDigest":"sha256:` + strings.Repeat("a", 64) +
		`","uploader":"token:ci/x","created":"2026-12-05T00:00:00Z","artifacts":[],"checks":[]}`
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	problemHdr := http.Header{"Content-Type": {"application/problem+json"}}
	if err := doc.check("GET /api/v1/releases/{id}", "GET", 200, jsonHdr, []byte(release)); err != nil {
		t.Fatalf("a good answer is refused: %v", err)
	}
	for _, tc := range []struct {
		name, pattern string
		status        int
		h             http.Header
		body          string
	}{
		{"extra field", "GET /api/v1/releases/{id}", 200, jsonHdr, strings.Replace(release, `"checks"`, `"secret":1,"checks"`, 1)},
		{"missing field", "GET /api/v1/releases/{id}", 200, jsonHdr, strings.Replace(release, `"uploader":"token:ci/x",`, "", 1)},
		{"bad digest", "GET /api/v1/releases/{id}", 200, jsonHdr, strings.Replace(release, `sha256:aaaa`, `sha256:AAAA`, 1)},
		{"bad time", "GET /api/v1/releases/{id}", 200, jsonHdr, strings.Replace(release, `2026-12-05T00:00:00Z`, `yesterday`, 1)},
		{"undocumented status", "GET /api/v1/releases/{id}", 418, jsonHdr, release},
		{"wrong media type", "GET /api/v1/releases/{id}", 200, http.Header{"Content-Type": {"text/html"}}, release},
		{"problem as plain JSON body", "GET /api/v1/releases", 400, problemHdr, `{"error":"bad"}`},
		{"missing Location", "POST /api/v1/releases", 201, jsonHdr, release},
		{"undocumented route", "GET /api/v1/nothing", 200, jsonHdr, `{}`},
	} {
		if err := doc.check(tc.pattern, "GET", tc.status, tc.h, []byte(tc.body)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestOpenAPIAnswers sends a request for every documented operation and
// its usual answers, so that each is checked against the document
// (checkAnswer in doH) even where the endpoint's own tests are internal.
func TestOpenAPIAnswers(t *testing.T) {
	t.Parallel()
	site, a, _, read := readSite(t)
	up := site.token(t, "uploader", token.Upload)
	rel := "/api/v1/releases/" + a[0].ReleaseID
	content := []byte("0123456789")
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256(content))
	unknown := "sha256:" + strings.Repeat("0", 64)
	rng := func(r string) http.Header { return http.Header{"Range": {r}} }

	steps := []struct {
		method, path, tok string
		body              []byte
		h                 http.Header
		status            int
	}{
		{"GET", "/healthz", "", nil, nil, 200},
		{"GET", "/readyz", "", nil, nil, 200},
		{"GET", "/metrics", "", nil, nil, 200},
		{"GET", "/api/v1/openapi.json", "", nil, nil, 200},
		{"GET", "/api/v1/nothing", read, nil, nil, 404},
		{"GET", "/api/v1/log/key", "", nil, nil, 200},
		{"GET", "/api/v1/log/consistency?from=1&to=3", "", nil, nil, 200},
		{"GET", "/api/v1/log/consistency?from=3&to=1", "", nil, nil, 400},
		{"GET", "/log/checkpoint", "", nil, nil, 200},
		{"GET", "/api/v1/releases?limit=2", read, nil, nil, 200},
		{"GET", "/api/v1/identity", read, nil, nil, 200},
		{"GET", "/api/v1/identity", "", nil, nil, 401},
		{"GET", "/api/v1/releases?limit=none", read, nil, nil, 400},
		{"GET", "/api/v1/releases", "", nil, nil, 401},
		{"GET", "/api/v1/releases", up, nil, nil, 403},
		{"GET", rel, read, nil, nil, 200},
		{"GET", "/api/v1/releases/r-0000000000000000", read, nil, nil, 404},
		{"GET", rel + "/receipt", read, nil, nil, 200},
		{"GET", rel + "/manifest", read, nil, nil, 200},
		{"GET", rel + "/files", read, nil, nil, 200},
		{"GET", rel + "/files/app.bin", read, nil, nil, 200},
		{"GET", rel + "/files/app.bin", read, nil, rng("bytes=0-1"), 206},
		{"GET", rel + "/files/none", read, nil, nil, 404},
		{"GET", "/api/v1/artifacts/" + a[0].Artifacts[0].Digest, read, nil, nil, 200},
		{"GET", "/api/v1/artifacts/" + a[0].Artifacts[0].Digest, read, nil, rng("bytes=1-2"), 206},
		{"GET", "/api/v1/artifacts/" + unknown, read, nil, nil, 404},
		{"GET", "/api/v1/artifacts/sha256:zz", read, nil, nil, 400},
		{"POST", "/api/v1/releases", up, []byte("{"), nil, 400},
		{"GET", "/v2/", "", nil, nil, 200},
		{"HEAD", "/v2/slipway/blobs/" + unknown, up, nil, nil, 404},
		{"GET", "/v2/slipway/blobs/" + unknown, read, nil, nil, 404},
		{"POST", "/v2/slipway/blobs/uploads/", "", nil, nil, 401},
		{"POST", "/v2/slipway/blobs/uploads/?digest=" + sum, up, nil, nil, 405},
		{"DELETE", "/v2/slipway/blobs/uploads/none", up, nil, nil, 404},
	}
	for _, s := range steps {
		if code, body, _ := doH(t, s.method, site.url+s.path, s.tok, s.body, s.h); code != s.status {
			t.Errorf("%s %s: %d %s, want %d", s.method, s.path, code, body, s.status)
		}
	}
	// An upload: start, a chunk, status, a chunk out of range, a wrong
	// digest, then again and right; the blob is then stored.
	code, _, hdr := doH(t, "POST", site.url+"/v2/slipway/blobs/uploads/", up, nil, nil)
	loc := hdr.Get("Location")
	if code != http.StatusAccepted || loc == "" {
		t.Fatalf("POST upload: %d", code)
	}
	octet := func(cr string) http.Header {
		return http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {cr}}
	}
	for _, s := range []struct {
		method, query string
		body          []byte
		h             http.Header
		status        int
	}{
		{"PATCH", "", content[:4], octet("0-3"), 202},
		{"GET", "", nil, nil, 204},
		{"PATCH", "", content[6:], octet("6-9"), 416},
		{"PATCH", "", content[4:], octet("4-9"), 202},
		{"PUT", "?digest=" + sum, nil, nil, 201},
	} {
		if code, body, _ := doH(t, s.method, site.url+loc+s.query, up, s.body, s.h); code != s.status {
			t.Fatalf("%s %s: %d %s, want %d", s.method, loc+s.query, code, body, s.status)
		}
	}
	if code, _, _ := doH(t, "HEAD", site.url+"/v2/slipway/blobs/"+sum, up, nil, nil); code != http.StatusOK {
		t.Errorf("HEAD of the stored blob: %d", code)
	}
	if code, _, _ := doH(t, "GET", site.url+"/v2/slipway/blobs/"+sum, read, nil, nil); code != http.StatusOK {
		t.Errorf("GET of the stored blob: %d", code)
	}
	code, _, hdr = doH(t, "POST", site.url+"/v2/slipway/blobs/uploads/", up, nil, nil)
	if code, body, _ := doH(t, "PUT", site.url+hdr.Get("Location")+"?digest="+unknown, up, content, nil); code != http.StatusBadRequest {
		t.Errorf("PUT with a wrong digest: %d %s", code, body)
	}
}
