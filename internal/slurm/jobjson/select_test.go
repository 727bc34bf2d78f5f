package jobjson

import (
	"testing"

	"github.com/slipway/actions/internal/slurm"
)

func TestSelectAndWithComment(t *testing.T) {
	job := func(id uint32, comment string, uid int64) Job {
		return Job{Job: slurm.Job{ID: id, Comment: comment}, UserID: uid}
	}
	r := &JobsResponse{Jobs: []Job{job(1, "k", 0), job(2, "k", 1000), job(3, "other", 0)}}

	got := r.Select([]uint32{1, 3, 9})
	if len(got) != 2 || got[1].ID != 1 || got[3].ID != 3 {
		t.Errorf("Select(1, 3, 9) = %v, want jobs 1 and 3 (9 is unknown: absent)", got)
	}
	if got := r.Select(nil); len(got) != 0 {
		t.Errorf("Select(nil) = %v, want none", got)
	}

	mine := r.WithComment("k", func(j Job) bool { return j.UserID == 0 })
	if len(mine) != 1 || mine[0].ID != 1 {
		t.Errorf("WithComment(k, uid 0) = %v, want only job 1 (job 2 is another user's)", mine)
	}
	if none := r.WithComment("absent", func(Job) bool { return true }); len(none) != 0 {
		t.Errorf("WithComment(absent) = %v, want none", none)
	}
}
