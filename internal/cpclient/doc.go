// Package cpclient is a small client of the control plane's JSON API
// (slipway serve, /api/v1/...) for the faces over it: the MCP server
// (internal/mcpserver) and commands such as slipway approve. It sends the
// caller's bearer token, decodes JSON answers, and turns problem details
// into *Error.
//
// It must never log, print or put in an error the token, never follow a
// redirect to another origin with it, and never hold powers of its own:
// whatever it may do, the token's scopes allow on the server.
package cpclient
