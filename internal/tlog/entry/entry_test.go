package entry

import (
	"strings"
	"testing"
	"time"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const hexB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func admitted() Entry {
	return Entry{
		Kind: KindReleaseAdmitted, Decision: DecisionAdmitted,
		Release: "r-1", Source: "github.com/acme/app", Uploader: "ci-token",
		Time:      time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		Artifacts: []Subject{{Name: "dist/app", SHA256: hexA}},
		Evidence:  []Evidence{{Describes: hexA, Name: "dist/app.sigstore.json", Role: "signature", SHA256: hexB}},
	}
}

func TestMarshalCanonical(t *testing.T) {
	t.Parallel()
	got, err := Marshal(admitted())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"admitted","evidence":[{"describes":"` + hexA +
		`","name":"dist/app.sigstore.json","role":"signature","sha256":"` + hexB + `"}],"kind":"release-admitted","release":"r-1",` +
		`"source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"ci-token","version":1}`
	if string(got) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, want)
	}
	e, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := e.Digest("dist/app"); !ok || d != hexA {
		t.Fatalf("Digest(dist/app) = %q, %v", d, ok)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	good, err := Marshal(admitted())
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	rejected := admitted()
	rejected.Kind, rejected.Decision, rejected.Check = KindReleaseRejected, DecisionRejected, "provenance"
	rej, err := Marshal(rejected)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(rej); err != nil {
		t.Fatalf("rejected entry: %v", err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown version", strings.Replace(g, `"version":1`, `"version":2`, 1), "version 2; this slipway reads version 1"},
		{"no version", strings.Replace(g, `,"version":1`, ``, 1), `no field "version"`},
		{"unknown field", strings.Replace(g, `"version":1`, `"version":1,"zz":1`, 1), "unknown field"},
		{"whitespace", strings.Replace(g, `"kind":`, `"kind": `, 1), "canonical"},
		{"key order", `{"version":1,` + strings.TrimPrefix(strings.Replace(g, `,"version":1`, ``, 1), "{"), "canonical"},
		{"not utc", strings.Replace(g, `2026-12-05T01:02:03Z`, `2026-12-05T01:02:03+00:00`, 1), "UTC"},
		{"unknown kind", strings.Replace(g, `release-admitted`, `dispatch`, 1), `kind "dispatch"`},
		{"decision mismatch", strings.Replace(g, `"decision":"admitted"`, `"decision":"rejected"`, 1), "decision"},
		{"bad digest", strings.Replace(g, `"sha256":"`+hexA, `"sha256":"`+strings.ToUpper(hexA), 1), "lowercase hex"},
		{"trailing data", g + "{}", "after top-level value"},
		{"not json", "c2sp", "JSON object"},
		{"rejected without check", strings.Replace(string(rej), `"check":"provenance",`, ``, 1), `"check"`},
		{"no uploader", strings.Replace(g, `"uploader":"ci-token"`, `"uploader":""`, 1), "uploader"},
		{"too large", strings.Repeat(" ", MaxSize+1), "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMarshalRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Entry)
		want string
	}{
		{"no artifacts", func(e *Entry) { e.Artifacts = nil }, "at least one artifact"},
		{"duplicate artifact", func(e *Entry) { e.Artifacts = append(e.Artifacts, e.Artifacts[0]) }, "twice"},
		{"check on admitted", func(e *Entry) { e.Check = "x" }, "only rejections"},
		{"no release", func(e *Entry) { e.Release = "" }, `"release"`},
		{"no time", func(e *Entry) { e.Time = time.Time{} }, `"time"`},
		{"service token as uploader", func(e *Entry) { e.Uploader = "slw_abcdef_0123456789" }, "never its token"},
		{"jwt as uploader", func(e *Entry) { e.Uploader = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }, "never its token"},
		{"evidence without role", func(e *Entry) { e.Evidence[0].Role = "" }, "empty role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := admitted()
			tc.edit(&e)
			if _, err := Marshal(e); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Marshal error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	good, err := Marshal(admitted())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for _, e := range []Entry{dispatched(), outputs()} {
		b, err := Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Marshal(*e)
		if err != nil {
			t.Fatalf("Parse accepted what Marshal refuses: %v", err)
		}
		if string(again) != string(data) {
			t.Fatalf("Parse accepted a non-canonical entry:\n%q\n%q", data, again)
		}
	})
}

func dispatched() Entry {
	e := admitted()
	e.Kind, e.Decision, e.Evidence = KindDispatchRecorded, DecisionRecorded, nil
	e.Uploader = "token:hpc/abc"
	e.Dispatch = &Dispatch{ID: "d-0123456789abcdef", JobID: "4711", Cluster: "c1", Partition: "debug",
		RunID: "slipway:v1:run=123.1:job=run:release=r-1:spec=0123456789abcdef", BuilderID: "https://hpc.example/runner"}
	return e
}

func authorized() Entry {
	e := dispatched()
	e.Kind, e.Decision = KindDispatchAuthorized, DecisionAuthorized
	e.Dispatch.ID, e.Dispatch.JobID = "", ""
	e.Dispatch.Authorization, e.Dispatch.Fingerprint = "a-0123456789abcdef", hexB
	return e
}

func recordedUnder() Entry {
	e := dispatched()
	e.Dispatch.Authorization, e.Dispatch.Fingerprint = "a-0123456789abcdef", hexB
	return e
}

func outputs() Entry {
	e := admitted()
	e.Kind = KindOutputsAdmitted
	e.Inputs = []Input{{Release: "r-1", LogIndex: 7}}
	return e
}

func TestDispatchAndOutputsKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    Entry
		want string
	}{
		{"dispatch", dispatched(), `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"recorded","dispatch":{"builderId":"https://hpc.example/runner",` +
			`"cluster":"c1","id":"d-0123456789abcdef","jobId":"4711","partition":"debug","runId":"slipway:v1:run=123.1:job=run:release=r-1:spec=0123456789abcdef"},` +
			`"kind":"dispatch-recorded","release":"r-1","source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"token:hpc/abc","version":1}`},
		{"authorized", authorized(), `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"authorized","dispatch":{"authorization":"a-0123456789abcdef",` +
			`"builderId":"https://hpc.example/runner","cluster":"c1","fingerprint":"` + hexB + `","partition":"debug","runId":"slipway:v1:run=123.1:job=run:release=r-1:spec=0123456789abcdef"},` +
			`"kind":"dispatch-authorized","release":"r-1","source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"token:hpc/abc","version":1}`},
		{"recorded under an authorization", recordedUnder(), `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"recorded","dispatch":{"authorization":"a-0123456789abcdef",` +
			`"builderId":"https://hpc.example/runner","cluster":"c1","fingerprint":"` + hexB + `","id":"d-0123456789abcdef","jobId":"4711","partition":"debug",` +
			`"runId":"slipway:v1:run=123.1:job=run:release=r-1:spec=0123456789abcdef"},` +
			`"kind":"dispatch-recorded","release":"r-1","source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"token:hpc/abc","version":1}`},
		{"outputs", outputs(), `{"artifacts":[{"name":"dist/app","sha256":"` + hexA + `"}],"decision":"admitted","evidence":[{"describes":"` + hexA +
			`","name":"dist/app.sigstore.json","role":"signature","sha256":"` + hexB + `"}],"inputs":[{"logIndex":7,"release":"r-1"}],"kind":"outputs-admitted","release":"r-1",` +
			`"source":"github.com/acme/app","time":"2026-12-05T01:02:03Z","uploader":"ci-token","version":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Marshal(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("Marshal =\n%s\nwant\n%s", got, tc.want)
			}
			e, err := Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if e.Admits() != (tc.e.Kind == KindOutputsAdmitted) {
				t.Errorf("Admits() = %v for %s", e.Admits(), e.Kind)
			}
		})
	}
}

func TestDispatchAndOutputsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    func() Entry
		edit func(*Entry)
		want string
	}{
		{"dispatch without dispatch", dispatched, func(e *Entry) { e.Dispatch = nil }, `lacks field "dispatch"`},
		{"admitted with dispatch", admitted, func(e *Entry) { e.Dispatch = dispatched().Dispatch }, `has field "dispatch"`},
		{"dispatch decided admitted", dispatched, func(e *Entry) { e.Decision = DecisionAdmitted }, `want "recorded"`},
		{"dispatch with evidence", dispatched, func(e *Entry) { e.Evidence = admitted().Evidence }, "evidence"},
		{"dispatch without artifacts", dispatched, func(e *Entry) { e.Artifacts = nil }, "at least one artifact"},
		{"bad job id", dispatched, func(e *Entry) { e.Dispatch.JobID = "12a" }, "not a Slurm job id"},
		{"job id zero-led", dispatched, func(e *Entry) { e.Dispatch.JobID = "012" }, "not a Slurm job id"},
		{"bad dispatch id", dispatched, func(e *Entry) { e.Dispatch.ID = "d-XYZ" }, `"d-" and 16`},
		{"run id charset", dispatched, func(e *Entry) { e.Dispatch.RunID = "run 1;rm" }, "[A-Za-z0-9._:=/-]"},
		{"run id empty", dispatched, func(e *Entry) { e.Dispatch.RunID = "" }, "run id"},
		{"token as partition", dispatched, func(e *Entry) { e.Dispatch.Partition = "slw_abc_def" }, "credential"},
		{"jwt as builder", dispatched, func(e *Entry) { e.Dispatch.BuilderID = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }, "credential"},
		{"token as requester", dispatched, func(e *Entry) { e.Uploader = "slw_abcdef_0123" }, "never its token"},
		{"authorized with a job", authorized, func(e *Entry) { e.Dispatch.JobID = "4711" }, "names a job"},
		{"authorized with a dispatch id", authorized, func(e *Entry) { e.Dispatch.ID = "d-0123456789abcdef" }, "names a job"},
		{"authorized without fingerprint", authorized, func(e *Entry) { e.Dispatch.Fingerprint = "" }, `lacks "authorization" or "fingerprint"`},
		{"authorized without id", authorized, func(e *Entry) { e.Dispatch.Authorization = "" }, `lacks "authorization" or "fingerprint"`},
		{"authorized decided recorded", authorized, func(e *Entry) { e.Decision = DecisionRecorded }, `want "authorized"`},
		{"authorized with evidence", authorized, func(e *Entry) { e.Evidence = admitted().Evidence }, "evidence"},
		{"authorization id form", authorized, func(e *Entry) { e.Dispatch.Authorization = "d-0123456789abcdef" }, `"a-" and 16`},
		{"fingerprint not hex", authorized, func(e *Entry) { e.Dispatch.Fingerprint = strings.ToUpper(hexB) }, "64 lowercase hex"},
		{"recorded with half an authorization", recordedUnder, func(e *Entry) { e.Dispatch.Fingerprint = "" }, "both, or neither"},
		{"outputs without inputs", outputs, func(e *Entry) { e.Inputs = nil }, `lacks field "inputs"`},
		{"admitted with inputs", admitted, func(e *Entry) { e.Inputs = outputs().Inputs }, `has field "inputs"`},
		{"input twice", outputs, func(e *Entry) { e.Inputs = append(e.Inputs, e.Inputs[0]) }, "twice"},
		{"input without release", outputs, func(e *Entry) { e.Inputs[0].Release = "" }, "empty release id"},
		{"input index too large", outputs, func(e *Entry) { e.Inputs[0].LogIndex = 1 << 53 }, "2^53-1"},
		{"outputs with check", outputs, func(e *Entry) { e.Check = "x" }, "only rejections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.e()
			tc.edit(&e)
			if _, err := Marshal(e); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Marshal error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
