// Package problem reads the refusals the control plane answers with: RFC
// 9457 problem details on /api/v1 (with slipway's check, subject and receipt
// members) and the OCI distribution spec's error JSON on /v2. Its clients
// (internal/upload, internal/cpclient) decide what a refusal means for
// them (exit codes, hints); this package only parses and cleans.
//
// It must never trust a server's text: whatever it returns has control
// characters replaced, so that a server cannot forge log lines or workflow
// commands through its own words, and bodies are read only up to a bound
// the caller chose.
package problem
