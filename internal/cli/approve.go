package cli

import (
	"context"
	"fmt"
	"regexp"

	"github.com/slipway/actions/internal/input"
)

// approveCommand is "slipway approve ID": a person with the admin scope
// approves (or, with --deny, refuses) a dispatch request that waits for
// them, such as one an AI agent made through the MCP server's
// dispatch_release. Approval submits the job. A command-line command.
type approveCommand struct {
	net     netFlags
	api     apiFlags
	id      string
	deny    bool
	comment string
}

func (c *approveCommand) commandLineOnly() {}
func (c *approveCommand) Name() string     { return "approve" }
func (c *approveCommand) ArgsUse() string  { return "REQUEST-ID" }
func (c *approveCommand) Short() string {
	return "Approve (or --deny) a pending dispatch request (q-…, as dispatch_release or GET /api/v1/dispatch-requests?state=pending shows it): the control plane then authorizes and submits its job; needs a token of scope admin that did not make the request."
}

var requestIDForm = regexp.MustCompile(`^q-[0-9a-f]{16}$`)

func (c *approveCommand) SetArgs(args []string) error {
	if len(args) != 1 || !requestIDForm.MatchString(args[0]) {
		return usageError{fmt.Errorf("approve takes one dispatch request id (q- and 16 hex digits), got %q; list the pending ones with GET /api/v1/dispatch-requests?state=pending", args)}
	}
	c.id = args[0]
	return nil
}

func (c *approveCommand) Inputs() []input.Input {
	return append(append(c.api.inputs("admin"),
		input.Bool(&c.deny, input.Spec{Name: "deny", Description: "Refuse the request instead: nothing is submitted."}),
		input.String(&c.comment, input.Spec{Name: "comment", Description: "Why, kept with the decision (at most 1024 bytes)."}),
	), c.net.inputs()...)
}

func (c *approveCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "state", Description: "The request's state after the decision: approved, denied or failed."},
		{Name: "dispatch-id", Description: "The dispatch its approval submitted (GET /api/v1/dispatches/{id})."},
	}
}

func (c *approveCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	cl, err := c.api.client(rt, "admin")
	if err != nil {
		return err
	}
	action := "approve"
	if c.deny {
		action = "deny"
	}
	var body any
	if c.comment != "" {
		body = map[string]string{"comment": c.comment}
	}
	var out struct{ RequestID, ReleaseID, Requester, State, DispatchID, Detail string }
	op := fmt.Sprintf("%s dispatch request %q", action, c.id)
	if err := cl.JSON(ctx, op, "POST", "/api/v1/dispatch-requests/"+c.id+"/"+action, nil, body, &out); err != nil {
		return apiError(err)
	}
	rt.Log.Info("dispatch request decided", "request", out.RequestID, "release", out.ReleaseID, "requester", out.Requester, "state", out.State, "dispatch", out.DispatchID)
	if err := rt.Output("state", out.State); err != nil {
		return err
	}
	if out.DispatchID == "" {
		return nil
	}
	return rt.Output("dispatch-id", out.DispatchID)
}
