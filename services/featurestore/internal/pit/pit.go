// Package pit is the point-in-time join engine behind GetHistoricalFeatures:
// it attaches to each entity row the feature values that were known at the
// row's timestamp, never a value from the future. It does no I/O.
//
// # API
//
//	type Row struct{ EntityKey string; Timestamp time.Time; Index int64 }
//	type RowIter interface{ Next() (Row, bool); Err() error }
//	type EventIter interface{ Next() (*features.Event, bool); Err() error }
//	type ViewInput struct{ View *features.View; Features []int; Events EventIter }
//	type JoinedRow struct{ Row; Values []*Value; Statuses []FeatureStatus; EventTimes []time.Time }
//	func JoinSorted(rows RowIter, views []ViewInput, emit func(*JoinedRow) error) error
//	func SortRows([]Row); func SortEvents([]features.Event)
//	func SliceRows([]Row) RowIter; func SliceEvents([]features.Event) EventIter
//
// Rows carry the entity key encoded as features.EncodeKey / KeyFromRow
// does, and come sorted by (EntityKey, Timestamp). Each view's events come
// sorted by (EntityKey, EventTime, Seq) — by event time, not arrival: Seq
// (arrival order, e.g. the stream sequence) only breaks ties between equal
// event times, the greater Seq winning. Unsorted input is an error, not a
// wrong answer. All views of one JoinSorted call must share the rows'
// entity; a request mixing entities runs one JoinSorted per entity (rows
// keyed by that entity) and combines the vectors by Row.Index.
//
// # Semantics
//
// JoinSorted is a sort-merge join: one pass over the rows and one over each
// view's events, like pandas merge_asof(by=entity, direction="backward",
// allow_exact_matches=True, tolerance=TTL). For a row (k, t):
//
//   - An event of k is visible when its event time is at or before t: an
//     event with event time == t IS visible (as in Feast and merge_asof's
//     default). Later events never are.
//   - Field features take the newest visible event (greatest event time,
//     then greatest Seq) and its value for the feature, even a null one:
//     PRESENT with the event time; EXPIRED (null value, event time kept)
//     when t - event time > the view's TTL (an event exactly TTL old is
//     PRESENT; TTL 0 never expires); NOT_FOUND (null, no event time) when
//     no event is visible.
//   - Aggregated features are computed over the visible events in
//     (t - window, t] as package features documents: PRESENT whenever the
//     entity has a visible event (a COUNT of 0 when none is in the window),
//     NOT_FOUND with null otherwise; the event time is the newest one in
//     the window (zero when empty). TTL does not apply.
//
// Output: emit is called once per row, in input order ((EntityKey,
// Timestamp) order), with the row's Index and one value, status and event
// time (zero time = unset) per requested feature: views in order, each
// view's requested features (ViewInput.Features, indices into
// View.Features) in order. The JoinedRow and its slices are reused: they
// are valid only during the call and must be copied to be kept. Values are
// shared with the events and must not be modified.
//
// # Cost
//
// O(rows × features + events) time; memory per view is one entity's state:
// its newest event's field values and, per aggregated feature, the events
// of its window (the aggregation buffers are reused across entities). No
// per-row allocation for field features; aggregated features allocate their
// result values.
package pit

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aifactory/aifactory/services/featurestore/internal/features"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Row is one entity row of a historical request.
type Row struct {
	// EntityKey is the encoded entity key (features.KeyFromRow).
	EntityKey string
	// Timestamp is the point in time to read features at.
	Timestamp time.Time
	// Index is the row's position in the request, returned unchanged.
	Index int64
}

// RowIter yields rows sorted by (EntityKey, Timestamp).
type RowIter interface {
	// Next returns the next row; ok is false at the end or on error.
	Next() (row Row, ok bool)
	// Err is the error that ended the iteration, if any.
	Err() error
}

// EventIter yields a view's events sorted by (EntityKey, EventTime, Seq).
type EventIter interface {
	// Next returns the next event; the pointer need only stay valid until
	// the following call. ok is false at the end or on error.
	Next() (ev *features.Event, ok bool)
	// Err is the error that ended the iteration, if any.
	Err() error
}

// ViewInput is one view of a join.
type ViewInput struct {
	View *features.View
	// Features are the indices into View.Features to output, in output
	// order; nil means all of them.
	Features []int
	Events   EventIter
}

// JoinedRow is one output row; see the package documentation.
type JoinedRow struct {
	Row
	Values     []*featurestorev1.Value
	Statuses   []featurestorev1.FeatureStatus
	EventTimes []time.Time
}

const (
	statusPresent  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	statusNotFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	statusExpired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED
)

// viewState is the merge state of one view: the current entity's newest
// visible event and its aggregation windows.
type viewState struct {
	in    ViewInput
	view  *features.View
	out   []int // requested feature indices
	field []int // indices of field features (slots copied from events)
	// windows[i] is the window of feature i when aggregated, else nil.
	windows []*features.Window

	// lookahead
	cur  *features.Event
	have bool
	// previous event, for the sort check
	prevKey  string
	prevTime time.Time
	prevSeq  uint64
	started  bool

	key     string // entity whose state is held
	seen    bool   // an event of key at or before the current row
	latestT time.Time
	latest  []*featurestorev1.Value // field slots of the newest event, by feature index
}

func newViewState(in ViewInput) (*viewState, error) {
	v := in.View
	if v == nil || in.Events == nil {
		return nil, errors.New("pit: a view input needs a View and Events")
	}
	s := &viewState{in: in, view: v, windows: make([]*features.Window, len(v.Features)), latest: make([]*featurestorev1.Value, len(v.Features))}
	if in.Features == nil {
		for i := range v.Features {
			s.out = append(s.out, i)
		}
	} else {
		s.out = in.Features
	}
	for _, i := range s.out {
		if i < 0 || i >= len(v.Features) {
			return nil, fmt.Errorf("pit: view %q has no feature #%d", v.Name, i)
		}
		f := &v.Features[i]
		if f.Aggregated() {
			if s.windows[i] == nil {
				s.windows[i] = features.NewWindow(f.Aggregation, f.Type, f.Window)
			}
		} else if !slices.Contains(s.field, i) {
			s.field = append(s.field, i)
		}
	}
	return s, nil
}

// next advances the lookahead, checking the sort order.
func (s *viewState) next() error {
	ev, ok := s.in.Events.Next()
	if !ok {
		s.cur, s.have = nil, false
		if err := s.in.Events.Err(); err != nil {
			return fmt.Errorf("pit: view %q events: %w", s.view.Name, err)
		}
		return nil
	}
	if s.started {
		c := cmp.Compare(ev.EntityKey, s.prevKey)
		if c == 0 {
			c = ev.EventTime.Compare(s.prevTime)
			if c == 0 {
				c = cmp.Compare(ev.Seq, s.prevSeq)
			}
		}
		if c < 0 {
			return fmt.Errorf("pit: view %q: events not sorted by (entity key, event time, seq): %q@%s#%d after %q@%s#%d",
				s.view.Name, ev.EntityKey, ev.EventTime.Format(time.RFC3339Nano), ev.Seq, s.prevKey, s.prevTime.Format(time.RFC3339Nano), s.prevSeq)
		}
	}
	s.started, s.prevKey, s.prevTime, s.prevSeq = true, ev.EntityKey, ev.EventTime, ev.Seq
	s.cur, s.have = ev, true
	return nil
}

func (s *viewState) reset(key string) {
	s.key = key
	s.seen = false
	for _, w := range s.windows {
		if w != nil {
			w.Reset()
		}
	}
}

// advance brings the state to row (key, t): applies the visible events.
func (s *viewState) advance(key string, t time.Time) error {
	if key != s.key {
		s.reset(key)
	}
	for s.have {
		ev := s.cur
		if ev.EntityKey < key {
			if err := s.next(); err != nil {
				return err
			}
			continue
		}
		if ev.EntityKey != key || ev.EventTime.After(t) {
			break
		}
		s.seen = true
		s.latestT = ev.EventTime
		for _, i := range s.field {
			if i < len(ev.Values) {
				s.latest[i] = ev.Values[i]
			} else {
				s.latest[i] = nil
			}
		}
		for i, w := range s.windows {
			if w == nil {
				continue
			}
			var in *featurestorev1.Value
			if i < len(ev.Values) {
				in = ev.Values[i]
			}
			w.Add(ev.EventTime, in)
		}
		if err := s.next(); err != nil {
			return err
		}
	}
	return nil
}

// fill writes the requested features at row time t into out starting at off.
func (s *viewState) fill(t time.Time, out *JoinedRow, off int) {
	expired := s.seen && s.view.TTL > 0 && t.Sub(s.latestT) > s.view.TTL
	for j, i := range s.out {
		k := off + j
		if !s.seen {
			out.Values[k], out.Statuses[k], out.EventTimes[k] = nil, statusNotFound, time.Time{}
			continue
		}
		if w := s.windows[i]; w != nil {
			v, newest, _ := w.Value(t)
			out.Values[k], out.Statuses[k], out.EventTimes[k] = v, statusPresent, newest
			continue
		}
		if expired {
			out.Values[k], out.Statuses[k], out.EventTimes[k] = nil, statusExpired, s.latestT
			continue
		}
		out.Values[k], out.Statuses[k], out.EventTimes[k] = s.latest[i], statusPresent, s.latestT
	}
}

// JoinSorted joins rows with views point-in-time correctly and calls emit
// once per row in input order; see the package documentation. It stops at
// the first error from an iterator, from emit, or on unsorted input.
func JoinSorted(rows RowIter, views []ViewInput, emit func(*JoinedRow) error) error {
	if rows == nil || emit == nil {
		return errors.New("pit: rows and emit are required")
	}
	states := make([]*viewState, len(views))
	width := 0
	for i, in := range views {
		s, err := newViewState(in)
		if err != nil {
			return err
		}
		if i > 0 && in.View.Entity != views[0].View.Entity {
			return fmt.Errorf("pit: views %q and %q have different entities (%q, %q); join each entity separately",
				views[0].View.Name, in.View.Name, views[0].View.Entity, in.View.Entity)
		}
		if err := s.next(); err != nil {
			return err
		}
		states[i] = s
		width += len(s.out)
	}
	out := &JoinedRow{
		Values:     make([]*featurestorev1.Value, width),
		Statuses:   make([]featurestorev1.FeatureStatus, width),
		EventTimes: make([]time.Time, width),
	}
	var prev Row
	first := true
	for {
		r, ok := rows.Next()
		if !ok {
			if err := rows.Err(); err != nil {
				return fmt.Errorf("pit: rows: %w", err)
			}
			return nil
		}
		if !first && (r.EntityKey < prev.EntityKey || (r.EntityKey == prev.EntityKey && r.Timestamp.Before(prev.Timestamp))) {
			return fmt.Errorf("pit: rows not sorted by (entity key, timestamp): row %d (%q@%s) after row %d (%q@%s)",
				r.Index, r.EntityKey, r.Timestamp.Format(time.RFC3339Nano), prev.Index, prev.EntityKey, prev.Timestamp.Format(time.RFC3339Nano))
		}
		first, prev = false, r
		off := 0
		for _, s := range states {
			if err := s.advance(r.EntityKey, r.Timestamp); err != nil {
				return err
			}
			s.fill(r.Timestamp, out, off)
			off += len(s.out)
		}
		out.Row = r
		if err := emit(out); err != nil {
			return err
		}
	}
}

// SortRows sorts rows by (EntityKey, Timestamp, Index).
func SortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		if c := cmp.Compare(a.EntityKey, b.EntityKey); c != 0 {
			return c
		}
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
}

// SortEvents sorts events by (EntityKey, EventTime, Seq).
func SortEvents(events []features.Event) {
	slices.SortFunc(events, func(a, b features.Event) int {
		if c := cmp.Compare(a.EntityKey, b.EntityKey); c != 0 {
			return c
		}
		if c := a.EventTime.Compare(b.EventTime); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

// SliceRows iterates over a slice of rows.
func SliceRows(rows []Row) RowIter { return &rowSlice{rows: rows} }

type rowSlice struct {
	rows []Row
	i    int
}

func (it *rowSlice) Next() (Row, bool) {
	if it.i >= len(it.rows) {
		return Row{}, false
	}
	it.i++
	return it.rows[it.i-1], true
}

func (it *rowSlice) Err() error { return nil }

// SliceEvents iterates over a slice of events without copying them.
func SliceEvents(events []features.Event) EventIter { return &eventSlice{events: events} }

type eventSlice struct {
	events []features.Event
	i      int
}

func (it *eventSlice) Next() (*features.Event, bool) {
	if it.i >= len(it.events) {
		return nil, false
	}
	it.i++
	return &it.events[it.i-1], true
}

func (it *eventSlice) Err() error { return nil }
