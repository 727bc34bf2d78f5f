package push

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway/actions/internal/exitcode"
)

// DefaultTagSettle is the least a push waits, after setting a new tag,
// before reading it again to make sure that no concurrent push moved it
// (see setTagOnce); it waits twice its own check-to-set time when that is
// longer, which is what decides on real networks (a put to ghcr.io takes a
// few hundred milliseconds). A check of the tag older than half of it when
// the tag is about to be set is made again.
const DefaultTagSettle = 50 * time.Millisecond

// maxRechecks bounds how often a stale check is made again.
const maxRechecks = 3

// TagMovedError is a new tag that this push set and that another writer
// moved before the push could confirm it: two pushes raced for the tag,
// and this one lost.
type TagMovedError struct {
	Ref   string
	Ours  string // the digest this push set
	Now   string // what the tag points at now, or "nothing …"
	After time.Duration
}

func (e *TagMovedError) Error() string {
	return fmt.Sprintf("tag %q was new and this push set it to %s, but %s later it points at %s: another push set the same tag at the same time, and tags are immutable here, so this push failed; "+
		"this push's content is still in the repository by digest (pin it as @%s), but the tag is not ours: find out which job pushed %s, and push to a new tag; "+
		"to make the registry refuse the second push itself, turn on its immutable tags (docs/push.md lists the registries that have them)",
		e.Ref, e.Ours, e.After.Round(time.Millisecond), e.Now, e.Ours, e.Now)
}

// setTagOnce sets a tag that must not exist yet to m (digest h) and
// confirms, after the put, that it still points at h.
//
// Registries offer no conditional tag update (OCI distribution has none;
// only registries with server-side immutable tags refuse the second
// writer), so two pushes can both find the tag absent and both set it.
// Whichever put landed first is overwritten, and its push fails here:
//
//  1. The tag is checked right before the put; a check older than half the
//     settle time when the put is about to be sent is made again.
//  2. After the put, the push waits settle (at least twice as long as its
//     own check-to-put took) and reads the tag again; if it points at other
//     content (or nothing), the push fails with a TagMovedError.
//
// A concurrent push B can only overwrite this push A unnoticed if B's put
// lands after A's second read; B checked before A's put landed, so B's
// check-to-put time would have to exceed A's wait: both the settle time and
// twice A's own check-to-put time. Two slipway pushes of different content
// to one new tag therefore both succeed only when one of them took that
// much longer than the other between its check and its put (a registry that
// stalls one request for seconds). The check is not atomic; the atomic gate
// is the registry's immutable tags, or the control plane.
func (o *Options) setTagOnce(ctx context.Context, s *session, tag name.Tag, m pushable, h v1.Hash) (Status, error) {
	var checked time.Time
	for try := 1; ; try++ {
		checked = time.Now()
		now, err := s.head(ctx, tag)
		if err != nil {
			return "", s.classify(err, fmt.Sprintf("looking up tag %q before setting it", tag.Name()))
		}
		if now != nil && now.Digest == h {
			return AlreadyPresent, nil
		}
		if now != nil {
			return "", exitcode.Failure(&TagExistsError{Ref: tag.Name(), Existing: now.Digest.String(), New: h.String()})
		}
		if o.beforeSetTag != nil {
			o.beforeSetTag(ctx)
		}
		if time.Since(checked) <= o.TagSettle/2 || try >= maxRechecks {
			break
		}
		o.Log.Debug("the tag check is stale; checking again", "tag", tag.Name(), "age", time.Since(checked).String())
	}
	if err := s.put(ctx, tag, m); err != nil {
		return "", s.classify(err, fmt.Sprintf("setting tag %q", tag.Name()))
	}
	wait := max(o.TagSettle, 2*time.Since(checked))
	o.Log.Debug("waiting before reading the new tag again", "tag", tag.Name(), "wait", wait.String())
	if err := sleep(ctx, wait); err != nil {
		return "", exitcode.Infra(fmt.Errorf("tag %q was set to %s, but the push was stopped before it could confirm that no concurrent push moved it: %w; check what the tag points at", tag.Name(), h, err))
	}
	after, err := s.head(ctx, tag)
	if err != nil {
		return "", s.classify(err, fmt.Sprintf("tag %q was set to %s, but reading it again to confirm that no concurrent push moved it failed", tag.Name(), h))
	}
	if after == nil || after.Digest != h {
		o.Log.Warn("the new tag was moved by another push", "tag", tag.Name(), "ours", h.String(), "now", describe(after))
		return "", exitcode.Failure(&TagMovedError{Ref: tag.Name(), Ours: h.String(), Now: describe(after), After: time.Since(checked)})
	}
	return Pushed, nil
}
