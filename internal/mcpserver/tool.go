package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// handler is a tool's typed handler.
type handler[In, Out any] func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error)

// addTool adds a tool whose input and output schemas are derived from In
// and Out (as mcp.AddTool derives them). The input is validated against
// its schema and decoded strictly; the output is marshalled once, as the
// structured content and its JSON text. Unlike mcp.AddTool, the output is
// not validated again against its own schema on every call: it is Out,
// whose schema it is, and skipping that round trip (unmarshal, validate,
// marshal) takes about a third of a list_releases call's CPU.
func addTool[In, Out any](srv *mcp.Server, t *mcp.Tool, h handler[In, Out]) {
	in, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err)) // a bug in In, found at start
	}
	out, err := jsonschema.For[Out](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: output schema: %v", t.Name, err))
	}
	resolved, err := in.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err))
	}
	tt := *t
	tt.InputSchema, tt.OutputSchema = in, out
	srv.AddTool(&tt, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args := req.Params.Arguments
		if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
			args = json.RawMessage("{}")
		}
		var v any
		if err := json.Unmarshal(args, &v); err != nil {
			return errorResult(fmt.Errorf("the arguments are not JSON: %v", err)), nil
		}
		if err := resolved.Validate(v); err != nil {
			return errorResult(fmt.Errorf("validating the arguments: %v; see the tool's input schema", err)), nil
		}
		var typed In
		dec := json.NewDecoder(bytes.NewReader(args))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&typed); err != nil {
			return errorResult(fmt.Errorf("reading the arguments: %v; see the tool's input schema", err)), nil
		}
		res, o, err := h(ctx, req, typed)
		if err != nil {
			return errorResult(err), nil
		}
		raw, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("tool %s: encoding its answer: %w", t.Name, err)
		}
		if res == nil {
			res = &mcp.CallToolResult{}
		}
		res.StructuredContent = json.RawMessage(raw)
		if res.Content == nil {
			res.Content = []mcp.Content{&mcp.TextContent{Text: string(raw)}}
		}
		return res, nil
	})
}

// errorResult is a tool error: the agent reads its text.
func errorResult(err error) *mcp.CallToolResult {
	r := &mcp.CallToolResult{}
	r.SetError(err)
	return r
}
