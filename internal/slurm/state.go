package slurm

import "strings"

// State is a Slurm job state as squeue and slurmrestd name it.
type State string

// The states Slurm reports. COMPLETING is a flag Slurm shows as a state: the
// script has ended and the epilog or the step cleanup still runs.
const (
	Pending     State = "PENDING"
	Running     State = "RUNNING"
	Suspended   State = "SUSPENDED"
	Completing  State = "COMPLETING"
	Configuring State = "CONFIGURING"
	Requeued    State = "REQUEUED"
	Resizing    State = "RESIZING"
	Signaling   State = "SIGNALING"
	StageOut    State = "STAGE_OUT"
	Stopped     State = "STOPPED"

	Completed   State = "COMPLETED"
	Failed      State = "FAILED"
	Timeout     State = "TIMEOUT"
	OutOfMemory State = "OUT_OF_MEMORY"
	Cancelled   State = "CANCELLED"
	NodeFail    State = "NODE_FAIL"
	Preempted   State = "PREEMPTED"
	BootFail    State = "BOOT_FAIL"
	Deadline    State = "DEADLINE"
	SpecialExit State = "SPECIAL_EXIT"
	Revoked     State = "REVOKED"
)

// Final reports whether the job has ended for good: Slurm will not run it
// again by itself. Unknown states are not final (a caller waits on them and
// reports them as they are). A PREEMPTED job that Slurm requeues comes back
// as PENDING; COMPLETING is not final (the job still holds its nodes).
func (s State) Final() bool {
	switch s {
	case Completed, Failed, Timeout, OutOfMemory, Cancelled, NodeFail, Preempted,
		BootFail, Deadline, SpecialExit, Revoked:
		return true
	}
	return false
}

// ParseState maps the names Slurm's tools and API versions use to a State:
// squeue's long names, the short codes of squeue -t / %t ("CD", "F", "OOM"),
// "CANCELLED by 0" as scontrol shows a cancelled job, and "OOM" for
// OUT_OF_MEMORY. Anything else is returned upper-cased as it is.
func ParseState(s string) State {
	s = strings.ToUpper(strings.TrimSpace(s))
	if i := strings.IndexByte(s, ' '); i > 0 { // "CANCELLED by 0"
		s = s[:i]
	}
	if st, ok := shortStates[s]; ok {
		return st
	}
	if s == "OOM" {
		return OutOfMemory
	}
	return State(s)
}

// Precedence of the state names v0.0.40 and later list in job_state (a base
// state and its flags): the flag that changes what a caller does wins.
var stateFlagsFirst = []State{Completing, Requeued, Resizing, StageOut, Signaling, Configuring}

// StateFromList maps the job_state list of slurmrestd v0.0.40 and later
// (["RUNNING"], ["PENDING","REQUEUED"], ["COMPLETED","COMPLETING"]) to one
// State: a final base state wins, then COMPLETING and the other flags, then
// the base state.
func StateFromList(list []string) State {
	var base State
	flags := map[State]bool{}
	for _, n := range list {
		st := ParseState(n)
		switch {
		case st.Final():
			return st
		case base == "" && isBase(st):
			base = st
		default:
			flags[st] = true
		}
	}
	for _, f := range stateFlagsFirst {
		if flags[f] {
			return f
		}
	}
	if base == "" && len(list) > 0 {
		return ParseState(list[0])
	}
	return base
}

func isBase(s State) bool { return s == Pending || s == Running || s == Suspended }

var shortStates = map[string]State{
	"PD": Pending, "R": Running, "S": Suspended, "CG": Completing, "CF": Configuring,
	"RQ": Requeued, "RS": Resizing, "SI": Signaling, "SO": StageOut, "ST": Stopped,
	"CD": Completed, "F": Failed, "TO": Timeout, "CA": Cancelled, "NF": NodeFail,
	"PR": Preempted, "BF": BootFail, "DL": Deadline, "SE": SpecialExit, "RV": Revoked,
}
