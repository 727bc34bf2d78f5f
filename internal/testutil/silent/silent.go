// Package silent starts servers that misbehave on purpose, for tests of
// timeouts and interruption: a TCP listener that accepts connections and
// never answers, and one that answers the start of an HTTP response and then
// stops. They are real sockets on loopback, closed when the test ends.
//
// It must never be used outside tests.
package silent

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a loopback TCP listener that accepts every connection, reads
// nothing, writes what it was told to (nothing by default) and then keeps
// the connection open until the test ends.
type Server struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

// Listen starts a server that never writes a byte.
func Listen(t testing.TB) *Server { return start(t, nil) }

// Stalling starts a server that reads the head of each request on a
// connection (up to the blank line), writes head (the start of an HTTP
// response, say) and then nothing more.
func Stalling(t testing.TB, head string) *Server { return start(t, []byte(head)) }

func start(t testing.TB, head []byte) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			if len(head) > 0 {
				go answer(c, head)
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func answer(c net.Conn, head []byte) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	c.Write(head)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Accepted is how many connections the server has accepted.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}
