package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/verify"
)

// CheckInputs names the outputs admission check in rejections: the input
// releases an outputs manifest's provenance names.
const CheckInputs = "inputs"

// dispatchInputs reads what a verified release says it was made from. A
// release whose verified provenance is of the slurm-dispatch build type
// (the outputs of a dispatched job) must name, for every artifact, input
// releases admitted here, each with its manifest digest and the log index
// of its release-admitted entry; it returns them (sorted by release id)
// and their one source repository. A release without such provenance
// returns no inputs. failed is the check that refused it.
func (a *admitter) dispatchInputs(ctx context.Context, rep *verify.Report) (inputs []entry.Input, source string, failed *verify.Check, err error) {
	fail := func(subject, format string, args ...any) ([]entry.Input, string, *verify.Check, error) {
		return nil, "", &verify.Check{Check: CheckInputs, Status: verify.Fail, Subject: subject, Message: fmt.Sprintf(format, args...)}, nil
	}
	var plain []string
	seen := map[string]bool{}
	var sources []string
	for _, s := range rep.Subjects {
		ins, dispatched := s.DispatchInputs()
		if !dispatched {
			plain = append(plain, s.Name)
			continue
		}
		if len(ins) == 0 {
			return fail(s.Name, "the %s provenance of %q names no input release (resolvedDependencies \"slipway:release/<id>\"); upload the outputs manifest slipway dispatch wrote", provenance.SlurmBuildType, s.Name)
		}
		for _, in := range ins {
			if seen[in.ID] {
				continue
			}
			seen[in.ID] = true
			rel, err := a.s.cfg.Store.Release(ctx, in.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fail(s.Name, "input release %q (named by %s) was not admitted here: outputs are admitted only for releases this server admitted and dispatched", in.ID, filepath.Base(in.Bundle))
			case err != nil:
				return nil, "", nil, err
			case rel.ManifestDigest != "sha256:"+in.ManifestSHA256:
				return fail(s.Name, "input release %q is named with manifest sha256:%s, but it was admitted with manifest %s: the provenance names another release than this server admitted", in.ID, in.ManifestSHA256, rel.ManifestDigest)
			case in.LogIndex != strconv.FormatUint(rel.LogIndex, 10):
				return fail(s.Name, "input release %q is named with log index %q, but its release-admitted entry is at index %d: give the index of its receipt", in.ID, in.LogIndex, rel.LogIndex)
			}
			inputs = append(inputs, entry.Input{Release: rel.ID, LogIndex: rel.LogIndex})
			if !slices.Contains(sources, rel.SourceRepository) {
				sources = append(sources, rel.SourceRepository)
			}
		}
	}
	switch {
	case len(inputs) == 0:
		return nil, "", nil, nil
	case len(plain) > 0:
		return fail(plain[0], "the manifest holds outputs of a dispatched job and %q, which no verified %s provenance describes: upload the outputs manifest slipway dispatch wrote, and other artifacts as a release of their own", plain, provenance.SlurmBuildType)
	case len(sources) > 1:
		return fail(rep.Subjects[0].Name, "the input releases come from several source repositories %q: outputs belong to one repository; dispatch one release per job", sources)
	}
	slices.SortFunc(inputs, func(x, y entry.Input) int { return strings.Compare(x.Release, y.Release) })
	return inputs, sources[0], nil, nil
}
