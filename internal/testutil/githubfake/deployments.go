package githubfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ref              string          `json:"ref"`
		Task             string          `json:"task"`
		Environment      string          `json:"environment"`
		Description      string          `json:"description"`
		Payload          json.RawMessage `json:"payload"`
		RequiredContexts *[]string       `json:"required_contexts"`
	}
	const doc = "https://docs.github.com/rest/deployments/deployments#create-a-deployment"
	if err := decode(r, &req); err != nil || req.Ref == "" {
		s.validation(w, "Deployment", "missing_field", "ref", doc)
		return
	}
	if req.RequiredContexts == nil {
		// GitHub checks the ref's commit statuses unless told which
		// contexts to require; the fake has none, so it refuses as
		// GitHub does for a ref whose checks did not pass.
		m := Recorded("validation_failed")
		m["message"] = "Conflict: Commit status checks failed for " + req.Ref + "."
		m["errors"] = []any{map[string]any{"contexts": []any{}, "resource": "Deployment", "field": "required_contexts"}}
		m["documentation_url"] = doc
		s.write(w, http.StatusConflict, nil, m)
		return
	}
	if req.Task == "" {
		req.Task = "deploy"
	}
	if req.Environment == "" {
		req.Environment = "production"
	}
	d := &Deployment{ID: s.id(), Ref: req.Ref, Task: req.Task, Environment: req.Environment, Description: req.Description, Payload: req.Payload}
	s.Deployments = append(s.Deployments, d)
	s.write(w, http.StatusCreated, nil, s.deploymentJSON(r, d))
}

func (s *Server) deploymentJSON(r *http.Request, d *Deployment) map[string]any {
	m := Recorded("deployment")
	id := strconv.FormatInt(d.ID, 10)
	m["id"], m["ref"], m["task"], m["environment"], m["original_environment"], m["description"] = d.ID, d.Ref, d.Task, d.Environment, d.Environment, d.Description
	m["url"] = s.api(r) + "/deployments/" + id
	m["statuses_url"] = m["url"].(string) + "/statuses"
	m["repository_url"] = s.api(r)
	m["creator"] = Recorded("user")
	if len(d.Payload) > 0 {
		m["payload"] = d.Payload
	}
	m["production_environment"] = false
	return m
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	i := slices.IndexFunc(s.Deployments, func(d *Deployment) bool { return d.ID == id })
	if i < 0 {
		s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
		return
	}
	d := s.Deployments[i]
	var req struct {
		State       string `json:"state"`
		Description string `json:"description"`
		LogURL      string `json:"log_url"`
		Environment string `json:"environment"`
	}
	if err := decode(r, &req); err != nil || !slices.Contains(deploymentStates, req.State) {
		s.validation(w, "DeploymentStatus", "invalid", "state", "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status")
		return
	}
	d.Statuses = append(d.Statuses, DeploymentStatus{State: req.State, Description: req.Description, LogURL: req.LogURL, Environment: req.Environment})
	m := Recorded("deployment_status")
	sid := s.id()
	m["id"], m["state"], m["description"], m["log_url"], m["target_url"] = sid, req.State, req.Description, req.LogURL, req.LogURL
	m["environment"] = d.Environment
	m["url"] = s.api(r) + "/deployments/" + strconv.FormatInt(id, 10) + "/statuses/" + strconv.FormatInt(sid, 10)
	m["deployment_url"] = s.api(r) + "/deployments/" + strconv.FormatInt(id, 10)
	m["repository_url"] = s.api(r)
	m["creator"] = Recorded("user")
	s.write(w, http.StatusCreated, nil, m)
}
