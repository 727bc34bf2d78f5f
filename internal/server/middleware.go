package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// reqInfo is what the outer middleware learns about a request while the
// inner layers run: its id, and the identity auth.go found (its name and,
// for an OIDC identity, the ids it is matched by).
type reqInfo struct {
	id       string
	identity string
	attrs    []slog.Attr
}

type infoKey struct{}

func info(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

func requestID(ctx context.Context) string {
	if i := info(ctx); i != nil {
		return i.id
	}
	return ""
}

// RequestIDHeader carries the request id both ways: a client's value is
// kept when it is short and plain, else the server makes one.
const RequestIDHeader = "X-Request-Id"

func newRequestID(r *http.Request) string {
	if v := r.Header.Get(RequestIDHeader); len(v) > 0 && len(v) <= 64 && plain(v) {
		return v
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func plain(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// recorder keeps the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe wraps the whole router: request id, panic recovery, one log line
// and the metrics of every request. It logs the method, the path (never
// the query or a header), the route, the status and the identity.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: newRequestID(r)}
		w.Header().Set(RequestIDHeader, ri.id)
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		rec := &recorder{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v", v)
				if rec.status == 0 {
					render(rec, r, err)
				}
				s.log.Error("handler panicked", "request_id", ri.id, "error", err)
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(route, r.Method).Observe(d.Seconds())
			attrs := []slog.Attr{slog.String("request_id", ri.id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", status),
				slog.Int64("bytes", rec.bytes), slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.String("remote", r.RemoteAddr)}
			if ri.identity != "" {
				attrs = append(attrs, slog.String("identity", ri.identity))
				attrs = append(attrs, ri.attrs...)
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// serve adapts a HandlerFunc: its error is rendered, and logged when it is
// a server error or carries a cause.
func (s *Server) serve(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		p := render(w, r, err)
		if p.Status >= 500 || p.Cause != nil {
			s.log.Warn("request failed", "request_id", requestID(r.Context()), "status", p.Status, "type", p.Type, "error", err)
		}
	})
}
