package jobscript

import (
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// MaxCommandBytes bounds a command line given to SplitCommand.
const MaxCommandBytes = 64 << 10

// SplitError says why SplitCommand refused a command line: Pos is the byte
// offset of the offending character in it.
type SplitError struct {
	Command string
	Pos     int
	Reason  string
}

func (e *SplitError) Error() string {
	return fmt.Sprintf("command %q: %s (at byte %d); the command is split into words without a shell: quote the character ('…') or pass a script instead", shorten(e.Command), e.Reason, e.Pos)
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// special are the characters a POSIX shell (or bash running as sh) treats
// specially when they are not quoted: expansions, command separators,
// redirections, subshells, globs, brace expansion and pipeline negation.
const special = "$`;|&<>()*?[]{}!"

// atWordStart are special only at the start of a word: a comment, a tilde
// expansion.
const atWordStart = "#~"

var assignment = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*=`)

// SplitCommand splits a command line into the words of an argv, as a POSIX
// shell splits a simple command, but without any expansion. What it accepts:
//
//   - words separated by unquoted spaces and tabs;
//   - '…': single quotes keep every character between them as it is;
//   - "…": double quotes keep every character between them, except that \$,
//     \`, \" and \\ stand for $, `, " and \ (a backslash before any other
//     character stays, as in a shell); an unescaped $ or ` inside them is
//     refused, since a shell would expand it;
//   - outside quotes, a backslash makes the next character literal;
//   - a pair of single or double quotes with nothing between them makes
//     an empty word.
//
// What it refuses, naming the byte: outside quotes any of $ ` ; | & < > ( )
// * ? [ ] { } !, and # or ~ at the start of a word; anywhere, NUL, newline,
// carriage return and every other control character but tab; an unterminated
// quote or a trailing backslash; a first word of the form NAME=… (a shell
// would take it for an environment assignment: pass variables with the env
// input); an empty command; more than MaxCommandBytes bytes. So a command it
// accepts means the same to sh as the argv it returns.
func SplitCommand(cmd string) ([]string, error) {
	fail := func(pos int, format string, args ...any) error {
		return &SplitError{Command: cmd, Pos: pos, Reason: fmt.Sprintf(format, args...)}
	}
	if len(cmd) > MaxCommandBytes {
		return nil, fail(MaxCommandBytes, "longer than %d bytes", MaxCommandBytes)
	}
	var (
		words  []string
		cur    strings.Builder
		inWord bool
		start  int // where the current word starts in cmd
		starts []int
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
			starts = append(starts, start)
		}
		cur.Reset()
		inWord = false
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		if err := checkControl(cmd, i, fail); err != nil {
			return nil, err
		}
		switch {
		case c == ' ' || c == '\t':
			end()
		case c == '\'':
			begin(i)
			j := strings.IndexByte(cmd[i+1:], '\'')
			if j < 0 {
				return nil, fail(i, "unterminated single quote")
			}
			for k := i + 1; k < i+1+j; k++ {
				if err := checkControl(cmd, k, fail); err != nil {
					return nil, err
				}
			}
			cur.WriteString(cmd[i+1 : i+1+j])
			i += 1 + j
		case c == '"':
			begin(i)
			j, err := doubleQuoted(cmd, i, &cur, fail)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '\\':
			if i+1 == len(cmd) {
				return nil, fail(i, "trailing backslash")
			}
			if err := checkControl(cmd, i+1, fail); err != nil {
				return nil, err
			}
			begin(i)
			cur.WriteByte(cmd[i+1])
			i++
		case strings.IndexByte(special, c) >= 0:
			return nil, fail(i, "unquoted %q", string(c))
		case !inWord && strings.IndexByte(atWordStart, c) >= 0:
			return nil, fail(i, "unquoted %q at the start of a word", string(c))
		default:
			begin(i)
			cur.WriteByte(c)
		}
	}
	end()
	if len(words) == 0 {
		return nil, fail(0, "no words")
	}
	if assignment.MatchString(cmd[starts[0]:]) {
		return nil, fail(starts[0], "the first word looks like an environment assignment (NAME=…); pass variables with the env input")
	}
	return words, nil
}

// doubleQuoted copies the double-quoted string that starts at cmd[open] into
// cur and returns the index of its closing quote.
func doubleQuoted(cmd string, open int, cur *strings.Builder, fail func(int, string, ...any) error) (int, error) {
	for i := open + 1; i < len(cmd); i++ {
		if err := checkControl(cmd, i, fail); err != nil {
			return 0, err
		}
		switch c := cmd[i]; c {
		case '"':
			return i, nil
		case '$', '`':
			return 0, fail(i, "%q inside double quotes (a shell would expand it; write \\%s or use single quotes)", string(c), string(c))
		case '\\':
			if i+1 < len(cmd) && strings.IndexByte("$`\"\\", cmd[i+1]) >= 0 {
				cur.WriteByte(cmd[i+1])
				i++
				continue
			}
			cur.WriteByte(c)
		default:
			cur.WriteByte(c)
		}
	}
	return 0, fail(open, "unterminated double quote")
}

// checkControl refuses a control character (all but tab) at cmd[i].
func checkControl(cmd string, i int, fail func(int, string, ...any) error) error {
	c := cmd[i]
	if (c < 0x20 && c != '\t') || c == 0x7f {
		switch c {
		case 0:
			return fail(i, "a NUL byte")
		case '\n':
			return fail(i, "a newline (one command per line: pass a script for more)")
		case '\r':
			return fail(i, "a carriage return")
		}
		return fail(i, "control character %q", string(c))
	}
	return nil
}
