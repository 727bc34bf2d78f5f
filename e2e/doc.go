// Package e2e runs Slipway's actions and reusable workflows end to end, the way GitHub runs them: act (a real
// GitHub Actions runner) executes a workflow from testdata/workflows against a copy of the sample project, the
// actions run as containers of the real image (scripts/image) through Podman, and they push to a real registry
// (internal/testutil/registry). e2e/README.md records the act facts the harness relies on.
//
// The package has only tests. A scenario is a workflow plus its inputs, environment and secrets: call Run with a
// Scenario and check the Result (job and step results, step outputs, the values the workflow wrote to
// $SLIPWAY_RESULT, files it copied to $SLIPWAY_OUT). The act tests run in parallel (go test -parallel bounds
// them): each run's workflow and jobs get unique names, so act's containers never collide, and the image is built
// once per test binary under an exclusive lock that act runs hold shared.
//
// It must never reach the internet, never use the Docker socket of the host inside a container, never put a
// secret in act's arguments or environment (secrets go through --secret-file), and never leave containers,
// keys or files behind.
package e2e
