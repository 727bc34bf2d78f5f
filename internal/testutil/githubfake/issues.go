package githubfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) issueJSON(r *http.Request, is *Issue) map[string]any {
	m := Recorded("issue")
	n := strconv.Itoa(is.Number)
	api := s.api(r) + "/issues/" + n
	m["id"], m["number"], m["title"], m["body"], m["state"] = 100000+is.Number, is.Number, is.Title, is.Body, is.State
	m["url"], m["html_url"] = api, s.html()+"/issues/"+n
	m["repository_url"], m["labels_url"] = s.api(r), api+"/labels{/name}"
	m["comments_url"], m["events_url"] = api+"/comments", api+"/events"
	m["comments"] = len(is.Comments)
	m["user"] = Recorded("user")
	if is.StateReason != "" {
		m["state_reason"] = is.StateReason
	}
	var labels []any
	for i, l := range is.Labels {
		lm := Recorded("label")
		lm["id"], lm["name"], lm["default"] = 208045946+i, l, false
		lm["url"] = s.api(r) + "/labels/" + l
		labels = append(labels, lm)
	}
	m["labels"] = labels
	if m["labels"] == nil {
		m["labels"] = []any{}
	}
	if is.PullRequest {
		m["pull_request"] = map[string]any{"url": s.api(r) + "/pulls/" + n, "html_url": s.html() + "/pull/" + n}
	}
	return m
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request) *Issue {
	n, _ := strconv.Atoi(r.PathValue("number"))
	for _, is := range s.Issues {
		if is.Number == n {
			return is
		}
	}
	s.write(w, http.StatusNotFound, nil, Recorded("not_found"))
	return nil
}

// listIssues: state (default open), labels (all of them), newest first,
// paginated.
func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var match []*Issue
	for i := len(s.Issues) - 1; i >= 0; i-- {
		is := s.Issues[i]
		if state != "all" && is.State != state {
			continue
		}
		if slices.ContainsFunc(want, func(l string) bool { return !slices.Contains(is.Labels, l) }) {
			continue
		}
		match = append(match, is)
	}
	lo, hi := paginate(w, r, len(match))
	out := []any{}
	for _, is := range match[lo:hi] {
		out = append(out, s.issueJSON(r, is))
	}
	s.writeAny(w, http.StatusOK, out)
}

type issueRequest struct {
	Title       *string   `json:"title"`
	Body        *string   `json:"body"`
	State       *string   `json:"state"`
	StateReason *string   `json:"state_reason"`
	Labels      *[]string `json:"labels"`
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if err := decode(r, &req); err != nil {
		s.write(w, http.StatusBadRequest, nil, map[string]any{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue"})
		return
	}
	if req.Title == nil || *req.Title == "" {
		s.validation(w, "Issue", "missing_field", "title", "https://docs.github.com/rest/issues/issues#create-an-issue")
		return
	}
	if req.Body != nil && len(*req.Body) > 65536 {
		s.validation(w, "Issue", "custom", "body", "https://docs.github.com/rest/issues/issues#create-an-issue")
		return
	}
	is := &Issue{Number: len(s.Issues) + 1, Title: *req.Title, State: "open"}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.Labels != nil {
		is.Labels = *req.Labels
	}
	s.Issues = append(s.Issues, is)
	w.Header().Set("Location", s.api(r)+"/issues/"+strconv.Itoa(is.Number))
	s.write(w, http.StatusCreated, nil, s.issueJSON(r, is))
}

func (s *Server) editIssue(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	var req issueRequest
	if err := decode(r, &req); err != nil {
		s.write(w, http.StatusBadRequest, nil, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	if req.State != nil {
		if *req.State != "open" && *req.State != "closed" {
			s.validation(w, "Issue", "invalid", "state", "https://docs.github.com/rest/issues/issues#update-an-issue")
			return
		}
		is.State = *req.State
	}
	if req.StateReason != nil {
		is.StateReason = *req.StateReason
	}
	if req.Body != nil {
		is.Body = *req.Body
	}
	s.write(w, http.StatusOK, nil, s.issueJSON(r, is))
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if err := decode(r, &req); err != nil || req.Body == nil || *req.Body == "" {
		s.validation(w, "IssueComment", "missing_field", "body", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
		return
	}
	is.Comments = append(is.Comments, *req.Body)
	m := Recorded("issue_comment")
	id := s.id()
	n := strconv.Itoa(is.Number)
	m["id"], m["body"], m["user"] = id, *req.Body, Recorded("user")
	m["url"] = s.api(r) + "/issues/comments/" + strconv.FormatInt(id, 10)
	m["html_url"] = s.html() + "/issues/" + n + "#issuecomment-" + strconv.FormatInt(id, 10)
	m["issue_url"] = s.api(r) + "/issues/" + n
	s.write(w, http.StatusCreated, nil, m)
}

// writeAny writes a JSON array (write takes objects).
func (s *Server) writeAny(w http.ResponseWriter, status int, v []any) {
	s.write(w, status, nil, v)
}
