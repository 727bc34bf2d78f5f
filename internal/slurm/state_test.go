package slurm

import "testing"

func TestStateFinal(t *testing.T) {
	t.Parallel()
	final := []State{Completed, Failed, Timeout, OutOfMemory, Cancelled, NodeFail, Preempted, BootFail, Deadline, SpecialExit, Revoked}
	notFinal := []State{Pending, Running, Suspended, Completing, Configuring, Requeued, Resizing, Signaling, StageOut, Stopped, "", "SOMETHING_NEW"}
	for _, s := range final {
		if !s.Final() {
			t.Errorf("%q.Final() = false", s)
		}
	}
	for _, s := range notFinal {
		if s.Final() {
			t.Errorf("%q.Final() = true", s)
		}
	}
}

func TestParseState(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]State{
		"COMPLETED": Completed, "completed": Completed, "CD": Completed, "CANCELLED by 0": Cancelled,
		"OOM": OutOfMemory, "OUT_OF_MEMORY": OutOfMemory, "PD": Pending, " RUNNING ": Running, "NEW_STATE": "NEW_STATE",
	} {
		if got := ParseState(in); got != want {
			t.Errorf("ParseState(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStateFromList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want State
	}{
		{nil, ""},
		{[]string{"RUNNING"}, Running},
		{[]string{"RUNNING", "COMPLETING"}, Completing},
		{[]string{"COMPLETED", "COMPLETING"}, Completed},
		{[]string{"PENDING", "REQUEUED"}, Requeued},
		{[]string{"FAILED"}, Failed},
		{[]string{"RUNNING", "SIGNALING"}, Signaling},
		{[]string{"PENDING", "REQUEUE_HOLD"}, Pending},
		{[]string{"WHATEVER"}, "WHATEVER"},
	}
	for _, tt := range tests {
		if got := StateFromList(tt.in); got != tt.want {
			t.Errorf("StateFromList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
