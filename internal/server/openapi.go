package server

import (
	_ "embed"
	"fmt"
	"net/http"
	"sync"

	"github.com/goccy/go-yaml"
)

// openAPIYAML is the OpenAPI 3.1 document of every endpoint, written by
// hand (YAML, for comments and review) and served as JSON.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the OpenAPI 3.1 document as JSON; an error only when
// the embedded document is broken (a bug the tests catch).
var OpenAPI = sync.OnceValues(func() ([]byte, error) {
	b, err := yaml.YAMLToJSON(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("converting the embedded openapi.yaml to JSON (a bug): %w", err)
	}
	return b, nil
})

// openAPIRoutes serve the document, without authentication: it describes
// the API, nothing of its data.
func (s *Server) openAPIRoutes() []Route {
	return []Route{{Pattern: "GET /api/v1/openapi.json", Handler: s.getOpenAPI}}
}

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc, err := OpenAPI()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(doc)
	return err
}
