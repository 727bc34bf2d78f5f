package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/testutil/logbuf"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/testutil/tools"
)

// mcpSite is a real slipway serve --slurm cli on the machine's cluster
// with one admitted release (acme/app) and one refused (another key), and
// tokens of several scopes.
type mcpSite struct {
	dir, url, release string
	rejected          uint64
	read, dispatch    string // scopes read; read,dispatch
	admin             string // read,admin
}

func newMCPSite(t *testing.T) *mcpSite {
	t.Helper()
	c := slurmtest.Require(t)
	s := &mcpSite{dir: t.TempDir()}
	env := releaseWith(t, s.dir, "", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/release.yml@refs/tags/v1",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "9", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")})
	writeFile(t, filepath.Join(s.dir, "policy.yaml"), string(mustRead(t, filepath.Join(s.dir, "policy.yaml")))+
		"dispatch:\n  - repositories: [github.com/acme/app]\n    partitions: ["+c.Partition+"]\n    maxTime: 5m\n    maxNodes: 1\n")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("mcp10-%d", time.Now().UnixNano())
	slipway := filepath.Join(c.Shared, name+"-slipway")
	writeFile(t, slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(slipway, 0o755)
	work := filepath.Join(c.Shared, name)
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	up := createToken(t, s.dir, data, "upload,read")
	s.read = createToken(t, s.dir, data, "read", "--name", "agent-ro")
	s.dispatch = createToken(t, s.dir, data, "read,dispatch", "--name", "agent")
	s.admin = createToken(t, s.dir, data, "read,admin", "--name", "person")
	s.url = startServe(t, s.dir, data, "policy.yaml", "--slurm", "cli", "--slurm-workdir", work, "--slurm-partition", c.Partition, "--slipway-path", slipway)
	env["SLIPWAY_TOKEN"], env["GITHUB_ACTIONS"] = up, ""
	code, stdout, stderr := runCLI(t, s.dir, env, "upload", "--server", s.url, "--manifest", "dist/manifest.json")
	if s.release = nameValues(stdout)["release-id"]; code != 0 || s.release == "" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	other := t.TempDir()
	otherEnv := release(t, other, "")
	otherEnv["SLIPWAY_TOKEN"] = up
	if code, _, stderr := runCLI(t, other, otherEnv, "upload", "--server", s.url, "--manifest", "dist/manifest.json"); code != 1 {
		t.Fatalf("upload of an untrusted release: exit %d\n%s", code, stderr)
	}
	s.rejected = 1 // the log: 0 the admission, 1 the refusal
	return s
}

// mcpStdio runs slipway mcp in-process on pipes with tok and connects the
// SDK's client to it.
func mcpStdio(t *testing.T, s *mcpSite, tok string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	logs := &logbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Args: []string{"mcp", "--server", s.url, "--policy", "policy.yaml"}, Stdin: inR, Stdout: outW, Stderr: logs,
			Getenv: func(k string) string { return map[string]string{"SLIPWAY_TOKEN": tok}[k] }, Getwd: func() (string, error) { return s.dir, nil }})
		outW.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "slipway-test", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		cancel()
		t.Fatalf("connecting to slipway mcp: %v\n%s", err, logs)
	}
	t.Cleanup(func() {
		cs.Close()
		inW.Close()
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("slipway mcp exited %d:\n%s", code, logs)
		}
		if strings.Contains(logs.String(), tok) {
			t.Error("slipway mcp logged the token")
		}
		if !strings.Contains(logs.String(), `"msg":"mcp call"`) || !strings.Contains(logs.String(), `"identity":"token:`) {
			t.Errorf("slipway mcp did not log its calls with the identity:\n%s", logs)
		}
	})
	return cs
}

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ tok string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpHTTP connects the SDK's client to serve's /mcp with tok.
func mcpHTTP(t *testing.T, s *mcpSite, tok string) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "slipway-test", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: s.url + "/mcp", HTTPClient: &http.Client{Transport: bearerTransport{tok}}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connecting to %s/mcp: %v", s.url, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// callTool calls name and returns its structured answer, or its error text.
func callTool(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) (map[string]any, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, err.Error()
	}
	if res.IsError {
		var msg []string
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				msg = append(msg, tc.Text)
			}
		}
		return nil, strings.Join(msg, "; ")
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return out, ""
}

// TestMCP drives the MCP server with the SDK's client over both
// transports (slipway mcp on stdio, serve's /mcp over streamable HTTP),
// against a real slipway serve --slurm: a read-only token gets the read
// tools (releases listed, read, verified again, the refusal explained
// from the log and proved included, the log's checkpoint and a receipt
// proved, resources read) and neither dispatch_release nor cancel_job; a
// dispatch token's dispatch_release records a pending request and nothing
// more; slipway approve with that token is refused (admin needed), with an
// admin's token it submits the job, which the agent then sees and cancels.
func TestMCP(t *testing.T) {
	t.Parallel()
	s := newMCPSite(t)
	transports := []struct {
		name    string
		connect func(*testing.T, *mcpSite, string) *mcp.ClientSession
	}{{"stdio", mcpStdio}, {"http", mcpHTTP}}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			testMCPRead(t, s, tr.connect(t, s, s.read))
			testMCPDispatch(t, s, tr.connect(t, s, s.dispatch))
		})
	}
	t.Run("inspector", func(t *testing.T) { testMCPInspector(t, s) })
}

func testMCPRead(t *testing.T, s *mcpSite, cs *mcp.ClientSession) {
	ctx := context.Background()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("tool %s has no typed input or output schema", tool.Name)
		}
	}
	for _, want := range []string{"list_releases", "get_release", "verify_release", "explain_rejection", "get_log_checkpoint", "prove_inclusion", "list_jobs", "get_job", "get_dispatch_request"} {
		if !slices.Contains(names, want) {
			t.Errorf("a read token's tools %v lack %s", names, want)
		}
	}
	for _, not := range []string{"dispatch_release", "cancel_job"} {
		if slices.Contains(names, not) {
			t.Errorf("a read-only token is offered %s", not)
		}
		if _, msg := callTool(t, cs, not, map[string]any{"releaseId": s.release, "dispatchId": "d-0000000000000000"}); msg == "" {
			t.Errorf("a read-only token called %s", not)
		}
	}
	out, msg := callTool(t, cs, "list_releases", map[string]any{"repository": "github.com/acme/app"})
	if rels, _ := out["releases"].([]any); msg != "" || len(rels) != 1 || rels[0].(map[string]any)["releaseId"] != s.release {
		t.Errorf("list_releases: %v %s", out, msg)
	}
	if out, msg = callTool(t, cs, "get_release", map[string]any{"releaseId": s.release}); msg != "" || out["sourceRepository"] != "https://github.com/acme/app" {
		t.Errorf("get_release: %v %s", out["sourceRepository"], msg)
	}
	if _, msg = callTool(t, cs, "get_release", map[string]any{"releaseId": "r-0000000000000000"}); !strings.Contains(msg, "not found") {
		t.Errorf("get_release of an unknown release: %q", msg)
	}
	if out, msg = callTool(t, cs, "verify_release", map[string]any{"releaseId": s.release}); msg != "" || out["verified"] != true || len(out["checks"].([]any)) < 4 {
		t.Errorf("verify_release: %v %s", out, msg)
	}
	if out, msg = callTool(t, cs, "explain_rejection", map[string]any{"logIndex": s.rejected}); msg != "" || out["check"] != "signature" || out["included"] != true ||
		!strings.Contains(fmt.Sprint(out["explanation"]), "trust policy") {
		t.Errorf("explain_rejection: %v %s", out, msg)
	}
	if _, msg = callTool(t, cs, "explain_rejection", map[string]any{"logIndex": 0}); !strings.Contains(msg, "not a rejection") {
		t.Errorf("explain_rejection of an admission: %q", msg)
	}
	if out, msg = callTool(t, cs, "get_log_checkpoint", nil); msg != "" || out["treeSize"].(float64) < 2 {
		t.Errorf("get_log_checkpoint: %v %s", out, msg)
	}
	if out, msg = callTool(t, cs, "prove_inclusion", map[string]any{"releaseId": s.release}); msg != "" || out["included"] != true || out["consistent"] != true {
		t.Errorf("prove_inclusion: %v %s", out, msg)
	}
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "slipway://releases/" + s.release + "/receipt"})
	if err != nil || len(res.Contents) != 1 || !strings.HasPrefix(res.Contents[0].Text, "c2sp.org/tlog-proof@v1") {
		t.Errorf("the receipt resource: %v %v", res, err)
	}
}

func testMCPDispatch(t *testing.T, s *mcpSite, cs *mcp.ClientSession) {
	rel, _ := callTool(t, cs, "get_release", map[string]any{"releaseId": s.release})
	artifact := rel["artifacts"].([]any)[0].(map[string]any)["name"]
	out, msg := callTool(t, cs, "dispatch_release", map[string]any{"releaseId": s.release, "artifact": artifact, "command": "sleep 120",
		"timeLimit": "3m", "cpusPerTask": 1, "mem": "256M", "reason": "test"})
	id, _ := out["requestId"].(string)
	if msg != "" || out["state"] != "pending" || id == "" || !strings.Contains(fmt.Sprint(out["next"]), "slipway approve "+id) {
		t.Fatalf("dispatch_release: %v %s", out, msg)
	}
	if jobs, _ := callTool(t, cs, "list_jobs", map[string]any{"releaseId": s.release}); len(jobs["jobs"].([]any)) != 0 && t.Name() == "TestMCP/stdio" {
		t.Errorf("a pending request submitted a job: %v", jobs)
	}
	env := map[string]string{"SLIPWAY_TOKEN": s.dispatch}
	if code, _, stderr := runCLI(t, s.dir, env, "approve", id, "--server", s.url); code != 2 || !strings.Contains(stderr, "403") {
		t.Errorf("approve with a dispatch token: exit %d, want 2 with 403\n%s", code, stderr)
	}
	env["SLIPWAY_TOKEN"] = s.admin
	code, stdout, stderr := runCLI(t, s.dir, env, "approve", id, "--server", s.url, "--comment", "ok")
	dispatchID := nameValues(stdout)["dispatch-id"]
	if code != 0 || nameValues(stdout)["state"] != "approved" || dispatchID == "" {
		t.Fatalf("approve: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, msg = callTool(t, cs, "get_dispatch_request", map[string]any{"requestId": id}); msg != "" || out["dispatchId"] != dispatchID {
		t.Errorf("get_dispatch_request: %v %s", out, msg)
	}
	if out, msg = callTool(t, cs, "get_job", map[string]any{"dispatchId": dispatchID}); msg != "" || out["submitted"] != true {
		t.Errorf("get_job: %v %s", out, msg)
	}
	if out, msg = callTool(t, cs, "cancel_job", map[string]any{"dispatchId": dispatchID}); msg != "" {
		t.Errorf("cancel_job: %v %s", out, msg)
	}
}

// testMCPInspector drives both transports with a real MCP client from
// outside the project, @modelcontextprotocol/inspector's CLI (Node, from
// npm; scripts/setup installs it into $SLIPWAY_TOOLS): over stdio it
// starts slipway mcp itself (the server's URL and the token in the
// environment, as a desktop client's configuration gives them); over HTTP
// it reaches serve's /mcp through a proxy that adds the bearer token, as a
// site's gateway would (this inspector version sends no header of its own).
func testMCPInspector(t *testing.T, s *mcpSite) {
	inspector := tools.Require(t, "mcp-inspector")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	slipway := filepath.Join(t.TempDir(), "slipway")
	writeFile(t, slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(slipway, 0o755)
	target, _ := url.Parse(s.url)
	proxy := httptest.NewServer(&httputil.ReverseProxy{FlushInterval: -1, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Set("Authorization", "Bearer "+s.read)
	}})
	t.Cleanup(proxy.Close)
	run := func(t *testing.T, target []string, args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, inspector, append(append([]string{"--cli"}, target...), args...)...)
		cmd.Dir = s.dir
		cmd.Env = append(os.Environ(), "SLIPWAY_SERVER="+s.url, "SLIPWAY_TOKEN="+s.read, "SLIPWAY_POLICY=policy.yaml")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("mcp-inspector %v: %v\n%s\n%s", args, err, stdout.String(), stderr.String())
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
			t.Fatalf("mcp-inspector %v: not JSON: %v\n%s", args, err, stdout.String())
		}
		return out
	}
	for _, tr := range []struct {
		name   string
		target []string
	}{
		{"stdio", []string{slipway, "mcp"}},
		{"http", []string{proxy.URL + "/mcp", "--transport", "http"}},
	} {
		t.Run(tr.name, func(t *testing.T) {
			list := run(t, tr.target, "--method", "tools/list")
			var names []string
			for _, tool := range list["tools"].([]any) {
				names = append(names, tool.(map[string]any)["name"].(string))
			}
			if !slices.Contains(names, "list_releases") || slices.Contains(names, "dispatch_release") {
				t.Errorf("tools/list for a read token: %v", names)
			}
			res := run(t, tr.target, "--method", "tools/call", "--tool-name", "list_releases", "--tool-arg", "repository=github.com/acme/app")
			sc, _ := res["structuredContent"].(map[string]any)
			rels, _ := sc["releases"].([]any)
			if res["isError"] == true || len(rels) != 1 || rels[0].(map[string]any)["releaseId"] != s.release {
				t.Errorf("tools/call list_releases: %v", res)
			}
			res = run(t, tr.target, "--method", "resources/read", "--uri", "slipway://releases/"+s.release)
			if !strings.Contains(fmt.Sprint(res["contents"]), s.release) {
				t.Errorf("resources/read: %v", res)
			}
		})
	}
}
