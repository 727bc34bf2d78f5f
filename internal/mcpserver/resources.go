package mcpserver

import (
	"context"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The resources' URIs: slipway://releases/{id} (the release as JSON) and
// slipway://releases/{id}/receipt (its receipt, C2SP tlog-proof text).
const (
	releaseURI = "slipway://releases/{id}"
	receiptURI = "slipway://releases/{id}/receipt"
)

func (s *Server) addResources(srv *mcp.Server) {
	srv.AddResourceTemplate(&mcp.ResourceTemplate{Name: "release", URITemplate: releaseURI, MIMEType: "application/json",
		Description: "An admitted release (GET /api/v1/releases/{id}): source, uploader, artifacts, log index, checks."}, s.readRelease)
	srv.AddResourceTemplate(&mcp.ResourceTemplate{Name: "receipt", URITemplate: receiptURI, MIMEType: "text/plain",
		Description: "A release's receipt: its log entry, inclusion proof and signed checkpoint (C2SP tlog-proof), verifiable offline."}, s.readRelease)
}

// readRelease reads either resource.
func (s *Server) readRelease(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	rest, ok := strings.CutPrefix(uri, "slipway://releases/")
	id, sub, _ := strings.Cut(rest, "/")
	if !ok || checkID("id", id, "r-") != nil || (sub != "" && sub != "receipt") {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	path, mime := "/api/v1/releases/"+id, "application/json"
	if sub == "receipt" {
		path, mime = path+"/receipt", "text/plain"
	}
	body, err := s.client(s.callToken(req.Extra)).Do(ctx, "reading "+uri, "GET", path, nil, nil)
	if err != nil {
		return nil, toolError("reading "+uri, err)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: mime, Text: string(body)}}}, nil
}
