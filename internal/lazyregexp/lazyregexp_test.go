package lazyregexp

import (
	"reflect"
	"regexp"
	"testing"
)

// TestSameAsRegexp: each method answers what the compiled regexp answers.
func TestSameAsRegexp(t *testing.T) {
	t.Parallel()
	const expr = `(?m)^(?P<key>[a-z]+)=(\d{1,3})$`
	lazy, eager := New(expr), regexp.MustCompile(expr)
	in := "a=1\nbad\nbc=22\nd=1234\n"
	if lazy.String() != eager.String() || lazy.Regexp().String() != expr {
		t.Errorf("source %q / %q, want %q", lazy.String(), lazy.Regexp().String(), expr)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"MatchString", lazy.MatchString(in), eager.MatchString(in)},
		{"FindString", lazy.FindString(in), eager.FindString(in)},
		{"FindStringSubmatch", lazy.FindStringSubmatch(in), eager.FindStringSubmatch(in)},
		{"FindStringSubmatchIndex", lazy.FindStringSubmatchIndex(in), eager.FindStringSubmatchIndex(in)},
		{"FindAllString", lazy.FindAllString(in, -1), eager.FindAllString(in, -1)},
		{"FindAllStringSubmatch", lazy.FindAllStringSubmatch(in, -1), eager.FindAllStringSubmatch(in, -1)},
		{"ReplaceAllString", lazy.ReplaceAllString(in, "$key"), eager.ReplaceAllString(in, "$key")},
		{"ReplaceAllStringFunc", lazy.ReplaceAllStringFunc(in, func(s string) string { return "<" + s + ">" }),
			eager.ReplaceAllStringFunc(in, func(s string) string { return "<" + s + ">" })},
		{"SubexpIndex", lazy.SubexpIndex("key"), eager.SubexpIndex("key")},
	} {
		if g, w := tc.got, tc.want; !equal(g, w) {
			t.Errorf("%s: %v, want %v", tc.name, g, w)
		}
	}
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// TestBadPatternPanicsInTests: in a test binary a bad pattern fails at New,
// as regexp.MustCompile fails at package initialization.
func TestBadPatternPanicsInTests(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New accepted a bad pattern in a test binary")
		}
	}()
	New(`(`)
}
