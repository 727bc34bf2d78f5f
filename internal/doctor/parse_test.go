package doctor

import "testing"

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"22.05.8", 22, 5, true},
		{"25.05", 25, 5, true},
		{"22", 0, 0, false},
		{"x.y.z", 0, 0, false},
	} {
		major, minor, ok := parseVersion(tc.in)
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("parseVersion(%q) = %d, %d, %v; want %d, %d, %v", tc.in, major, minor, ok, tc.major, tc.minor, tc.ok)
		}
	}
}

func TestTakesJobs(t *testing.T) {
	t.Parallel()
	// A trailing flag (* not responding, ~ powered off, …) is trimmed: the base state decides.
	for state, want := range map[string]bool{"idle": true, "mix": true, "alloc": true, "idle*": true, "comp": true,
		"drain": false, "down*": false, "drng": false, "": false} {
		if got := takesJobs(state); got != want {
			t.Errorf("takesJobs(%q) = %v, want %v", state, got, want)
		}
	}
}

// TestPingUp reads the ping answers of OpenAPI v0.0.38 (Slurm 22.05, as slurmrestd answers here) and v0.0.40+.
func TestPingUp(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"pings":[{"hostname":"vm","ping":"UP","status":0,"mode":"primary"}]}`:       true,
		`{"pings":[{"hostname":"vm","ping":"DOWN","status":-1,"mode":"primary"}]}`:    false,
		`{"pings":[{"hostname":"vm","pinged":"UP","responding":true,"latency":120}]}`: true,
		`{"pings":[{"hostname":"vm","responding":false}]}`:                            false,
		`{"pings":[]}`: false,
		`not json`:     false,
	} {
		if got := pingUp([]byte(body)); got != want {
			t.Errorf("pingUp(%s) = %v, want %v", body, got, want)
		}
	}
}

func TestCommandEnvDropsJWT(t *testing.T) {
	t.Parallel()
	got := commandEnv([]string{"PATH=/bin", "SLURM_JWT=secret", "SLURM_CONF=/etc/slurm/slurm.conf"})
	if len(got) != 2 || got[0] != "PATH=/bin" || got[1] != "SLURM_CONF=/etc/slurm/slurm.conf" {
		t.Fatalf("commandEnv = %q", got)
	}
}
