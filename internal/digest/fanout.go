package digest

import "io"

// Fanout is a writer that hands each buffer to several writers at once, one
// goroutine per writer, and returns when all of them are done with it: a
// SHA-256 and a copy (or another hash) of the same bytes proceed in
// parallel, and the buffer can be reused after each Write. Close it to end
// the goroutines.
type Fanout struct {
	jobs []chan []byte
	done chan error
}

// NewFanout returns a Fanout to ws.
func NewFanout(ws ...io.Writer) *Fanout {
	f := &Fanout{done: make(chan error, len(ws))}
	for _, w := range ws {
		jobs := make(chan []byte)
		f.jobs = append(f.jobs, jobs)
		go func() {
			for p := range jobs {
				_, err := w.Write(p)
				f.done <- err
			}
		}()
	}
	return f
}

// Write writes p to every writer and returns the first error any of them
// gave.
func (f *Fanout) Write(p []byte) (int, error) {
	for _, j := range f.jobs {
		j <- p
	}
	var first error
	for range f.jobs {
		if err := <-f.done; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return 0, first
	}
	return len(p), nil
}

// Close ends the writers' goroutines; Write must not be called after it.
func (f *Fanout) Close() {
	for _, j := range f.jobs {
		close(j)
	}
}
