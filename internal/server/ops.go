package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// opsRoutes are the endpoints for operators and orchestrators; all public.
func (s *Server) opsRoutes() []Route {
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return []Route{
		{Pattern: "GET /healthz", Handler: s.healthz},
		{Pattern: "GET /readyz", Handler: s.readyz},
		{Pattern: "GET /metrics", Handler: func(w http.ResponseWriter, r *http.Request) error {
			metrics.ServeHTTP(w, r)
			return nil
		}},
	}
}

// healthz answers 200 while the server serves (its store was opened and
// migrated before it started listening), 503 once it is shutting down.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if !s.ready.Load() {
		return shuttingDown()
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is healthz and a store that answers: 503 when either fails, so a
// load balancer stops sending requests here.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if !s.ready.Load() {
		return shuttingDown()
	}
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Not ready",
			Detail: "the metadata store does not answer; the server's log has the cause", RetryAfter: 1, Cause: err}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func shuttingDown() *Problem {
	return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Shutting down",
		Detail: "this server is shutting down; send the request to another replica or retry after it restarts", RetryAfter: 1}
}
