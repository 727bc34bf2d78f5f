package follow

import (
	"fmt"
	"strconv"
	"strings"
)

// Expand replaces the filename patterns Slurm expands in --output and
// --error that a dispatcher can know without asking the node: %j and %A (the
// job id; this package follows no array jobs), %x (the job name) and %% (a
// percent sign), with an optional zero-padding width ("%4j" → "0042") as
// sbatch accepts it. Other patterns (%N, %u, %a, …) and a backslash (which
// makes Slurm expand nothing) are refused: the dispatcher chose the path,
// and it must name files this package can find.
func Expand(pattern string, id uint32, name string) (string, error) {
	if strings.IndexByte(pattern, '\\') >= 0 {
		return "", fmt.Errorf("expanding %q: a backslash turns Slurm's pattern expansion off; name the log file without one", pattern)
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(pattern) && pattern[j] >= '0' && pattern[j] <= '9' {
			j++
		}
		if j >= len(pattern) {
			return "", fmt.Errorf("expanding %q: a %% at the end names no pattern; write %%%% for a percent sign", pattern)
		}
		width := 0
		if j > i+1 {
			w, err := strconv.Atoi(pattern[i+1 : j])
			if err != nil || w > 10 {
				return "", fmt.Errorf("expanding %q: width %q is more than 10", pattern, pattern[i+1:j])
			}
			width = w
		}
		switch pattern[j] {
		case '%':
			b.WriteByte('%')
		case 'j', 'A':
			fmt.Fprintf(&b, "%0*d", width, id)
		case 'x':
			if name == "" {
				return "", fmt.Errorf("expanding %q: %%x needs the job name, and Slurm no longer knows job %d; pass LogFiles.Name", pattern, id)
			}
			b.WriteString(name)
		default:
			return "", fmt.Errorf("expanding %q: pattern %%%c is not expanded by the follower (only %%j, %%A, %%x and %%%%); name the log file with those", pattern, pattern[j])
		}
		i = j
	}
	return b.String(), nil
}
