// Command true exits 0 at once. scripts/bench runs it as the entrypoint of a
// scratch image to measure what starting a container costs by itself, so that
// the cost can be subtracted from `podman run IMAGE --version`.
package main

func main() {}
