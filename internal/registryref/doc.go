// Package registryref parses the OCI references that slipway's inputs name
// ("registry/repository:tag" or "registry/repository@sha256:…") into
// go-containerregistry references, with errors that say how to fix them.
//
// References to a loopback registry (localhost, 127.0.0.0/8, [::1], any port)
// are marked insecure so that they are reached over plain HTTP without extra
// flags; every other registry is reached over HTTPS only.
//
// It parses strings only: it must never touch the network or the file system,
// and never guess a registry (no silent Docker Hub default).
package registryref
