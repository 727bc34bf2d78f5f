package jobscript

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"run", []string{"run"}},
		{"  ./sim   --steps 10\t--out=r.h5 ", []string{"./sim", "--steps", "10", "--out=r.h5"}},
		{`echo 'it''s' "a b" c\ d`, []string{"echo", "its", "a b", "c d"}},
		{`echo 'a $HOME; | & > < ( ) * ? [ ] { } ! # ~'`, []string{"echo", "a $HOME; | & > < ( ) * ? [ ] { } ! # ~"}},
		{`echo "\$HOME \` + "`" + ` \" \\ \n"`, []string{"echo", "$HOME ` \" \\ \\n"}},
		{`echo '' ""`, []string{"echo", "", ""}},
		{`echo a#b c~d e=f`, []string{"echo", "a#b", "c~d", "e=f"}},
		{`echo \$x \; \|`, []string{"echo", "$x", ";", "|"}},
		{`'FOO=bar' prog`, []string{"FOO=bar", "prog"}},
		{"python3 -c 'print(1)'", []string{"python3", "-c", "print(1)"}},
		{"échō ünïcode", []string{"échō", "ünïcode"}},
	} {
		got, err := SplitCommand(tc.cmd)
		if err != nil {
			t.Errorf("SplitCommand(%q): %v", tc.cmd, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestSplitCommandRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd  string
		want string
	}{
		{"", "no words"},
		{"   \t ", "no words"},
		{"echo $HOME", `unquoted "$" (at byte 5)`},
		{"echo `id`", "unquoted \"`\""},
		{"a; b", `unquoted ";"`},
		{"a | b", `unquoted "|"`},
		{"a && b", `unquoted "&"`},
		{"a > f", `unquoted ">"`},
		{"a < f", `unquoted "<"`},
		{"(a)", `unquoted "("`},
		{"ls *.txt", `unquoted "*"`},
		{"ls ?.txt", `unquoted "?"`},
		{"ls [ab]", `unquoted "["`},
		{"echo {a,b}", `unquoted "{"`},
		{"! a", `unquoted "!"`},
		{"a #comment", `unquoted "#" at the start of a word`},
		{"ls ~/x", `unquoted "~" at the start of a word`},
		{"a\nb", "a newline"},
		{"'a\nb'", "a newline"},
		{"a\rb", "a carriage return"},
		{"a\x00b", "a NUL byte"},
		{"a\x1bb", "control character"},
		{`echo "$HOME"`, `"$" inside double quotes`},
		{"echo \"`id`\"", "\"`\" inside double quotes"},
		{"echo 'abc", "unterminated single quote (at byte 5)"},
		{`echo "abc`, "unterminated double quote"},
		{`echo abc\`, "trailing backslash"},
		{"FOO=bar prog", "environment assignment"},
		{"  A_1=x", "environment assignment (NAME=…)"},
		{strings.Repeat("a", MaxCommandBytes+1), "longer than"},
	} {
		got, err := SplitCommand(tc.cmd)
		if err == nil {
			t.Errorf("SplitCommand(%q) accepted it: %q", tc.cmd, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SplitCommand(%q): error %q does not say %q", shorten(tc.cmd), err, tc.want)
		}
	}
}

// FuzzSplitCommand: SplitCommand never panics, and a command it accepts
// means the same argv to sh (differential test against /bin/sh).
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"run a b", `a 'b c' "d\"e" f\ g`, `x "\$\\" '' ""`, "a\tb", `"\q"`, "é '$'", "a#b ~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		words, err := SplitCommand(cmd)
		if err != nil {
			return
		}
		out, err := exec.Command("/bin/sh", "-c", "printf '%s\\0' "+cmd).Output()
		if err != nil {
			t.Fatalf("sh refused %q, which SplitCommand accepted as %q: %v", cmd, words, err)
		}
		if got := splitNUL(out); !slices.Equal(got, words) && !(len(words) == 1 && words[0] == "" && got == nil) {
			t.Fatalf("SplitCommand(%q) = %q, sh says %q", cmd, words, got)
		}
	})
}
