// Package mcpserver is Slipway's Model Context Protocol server: tools and
// resources through which an AI agent asks what was released, whether it
// verifies, why a release was refused, what the log proves and what runs
// on the cluster, and (only when its token allows, and after a person
// approved) runs a release there. It is served over stdio by slipway mcp
// and over streamable HTTP at /mcp by slipway serve.
//
// Every tool calls the control plane's HTTP API (internal/cpclient) with
// the caller's own bearer token: the same endpoints, the same scopes and
// the same policy as any other client. The package must never hold powers
// of its own (no store, no log key, no Slurm backend), never import
// internal/server or internal/store, never log or return a token, and
// never submit a job: dispatch_release only asks, an admin approves.
package mcpserver
