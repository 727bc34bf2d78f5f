package lazyregexp

import (
	"regexp"
	"sync"
	"testing"
)

// Regexp is a regexp.Regexp compiled on first use. Its methods are
// regexp.Regexp's; it is safe for concurrent use.
type Regexp struct {
	expr string
	rx   func() *regexp.Regexp
}

// New returns expr, compiled (with regexp.MustCompile) when first used.
func New(expr string) *Regexp {
	r := &Regexp{expr: expr, rx: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	if testing.Testing() {
		r.rx()
	}
	return r
}

// Regexp is the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.rx() }

// String is the source text.
func (r *Regexp) String() string { return r.expr }

func (r *Regexp) MatchString(s string) bool                { return r.rx().MatchString(s) }
func (r *Regexp) FindString(s string) string               { return r.rx().FindString(s) }
func (r *Regexp) FindStringSubmatch(s string) []string     { return r.rx().FindStringSubmatch(s) }
func (r *Regexp) FindStringSubmatchIndex(s string) []int   { return r.rx().FindStringSubmatchIndex(s) }
func (r *Regexp) FindAllString(s string, n int) []string   { return r.rx().FindAllString(s, n) }
func (r *Regexp) ReplaceAllString(src, repl string) string { return r.rx().ReplaceAllString(src, repl) }
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.rx().FindAllStringSubmatch(s, n)
}
func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.rx().ReplaceAllStringFunc(src, repl)
}
func (r *Regexp) SubexpIndex(name string) int { return r.rx().SubexpIndex(name) }
