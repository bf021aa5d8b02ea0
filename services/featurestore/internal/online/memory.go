package online

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const memShards = 64

// Memory is the in-process Store: the same semantics as Redis, values kept
// in their encoded form (so callers never share Values with the store).
// Keys are spread over sharded maps, each guarded by a sync.RWMutex.
type Memory struct {
	seed   maphash.Seed
	closed atomic.Bool
	shards [memShards]memShard
}

type memShard struct {
	mu     sync.RWMutex
	rows   map[string]*memRow
	events map[string]*memEvents
}

type memRow struct {
	ts     int64
	seq    uint64
	fields map[string]string // feature name -> encoded value
}

// memEvents holds one entity's events sorted like a Redis sorted set:
// by (microseconds, member).
type memEvents struct {
	members map[string]struct{}
	list    []memEvent
}

type memEvent struct {
	us     int64
	member string
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].rows = make(map[string]*memRow)
		m.shards[i].events = make(map[string]*memEvents)
	}
	return m
}

func memKey(view, entity string) string { return view + "\x00" + entity }

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memShards]
}

func (m *Memory) check(op string) error {
	if m.closed.Load() {
		return fmt.Errorf("online: %s: %w: store closed", op, ErrUnavailable)
	}
	return nil
}

// PutLatest implements Store.
func (m *Memory) PutLatest(ctx context.Context, view string, rows []Latest) error {
	if err := m.check("put latest"); err != nil {
		return err
	}
	if err := checkRows(view, rows); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("online: put latest: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		ts := r.EventTime.UnixNano()
		// Encode outside the lock.
		enc := make(map[string]string, len(r.Values))
		for name, v := range r.Values {
			enc[name] = encodeValue(v)
		}
		key := memKey(view, r.Entity)
		sh := m.shard(key)
		sh.mu.Lock()
		cur := sh.rows[key]
		switch {
		case cur == nil:
			sh.rows[key] = &memRow{ts: ts, seq: r.Seq, fields: enc}
		case ts > cur.ts || (ts == cur.ts && r.Seq > cur.seq):
			cur.ts, cur.seq = ts, r.Seq
			for name, v := range enc {
				cur.fields[name] = v
			}
		}
		sh.mu.Unlock()
	}
	return nil
}

// AddEvents implements Store.
func (m *Memory) AddEvents(ctx context.Context, view string, maxWindow time.Duration, events []AggEvent) error {
	if err := m.check("add events"); err != nil {
		return err
	}
	if err := checkEvents(view, events); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("online: add events: %w", err)
	}
	for i := range events {
		e := &events[i]
		ev := memEvent{us: e.EventTime.UnixMicro(), member: eventMember(e)}
		key := memKey(view, e.Entity)
		sh := m.shard(key)
		sh.mu.Lock()
		es := sh.events[key]
		if es == nil {
			es = &memEvents{members: make(map[string]struct{})}
			sh.events[key] = es
		}
		es.add(ev)
		if us := maxWindow.Microseconds(); us > 0 { // as Redis: whole microseconds
			es.trim(es.list[len(es.list)-1].us - us)
		}
		sh.mu.Unlock()
	}
	return nil
}

func less(a, b memEvent) bool {
	if a.us != b.us {
		return a.us < b.us
	}
	return a.member < b.member
}

func (es *memEvents) add(ev memEvent) {
	if _, dup := es.members[ev.member]; dup {
		return
	}
	es.members[ev.member] = struct{}{}
	// Events mostly arrive in order: append, then move back if needed.
	i := len(es.list)
	if i > 0 && less(ev, es.list[i-1]) {
		i = sort.Search(len(es.list), func(j int) bool { return less(ev, es.list[j]) })
	}
	es.list = append(es.list, memEvent{})
	copy(es.list[i+1:], es.list[i:])
	es.list[i] = ev
}

// trim drops events with us < cutoff (ZREMRANGEBYSCORE -inf (cutoff).
func (es *memEvents) trim(cutoff int64) {
	n := sort.Search(len(es.list), func(j int) bool { return es.list[j].us >= cutoff })
	if n == 0 {
		return
	}
	for _, ev := range es.list[:n] {
		delete(es.members, ev.member)
	}
	es.list = append(es.list[:0], es.list[n:]...)
}

// Read implements Store.
func (m *Memory) Read(ctx context.Context, reqs []ReadRequest) ([]ReadResult, error) {
	if err := m.check("read"); err != nil {
		return nil, err
	}
	if err := checkReads(reqs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("online: read: %w", err)
	}
	out := make([]ReadResult, len(reqs))
	nvals := 0
	for i := range reqs {
		nvals += len(reqs[i].Fields)
	}
	alloc := newValueAlloc(nvals)
	var enc []string // encoded values of one request, copied under the lock
	var members []string
	for i := range reqs {
		r := &reqs[i]
		res := &out[i]
		key := memKey(r.View, r.Entity)
		sh := m.shard(key)
		enc, members = enc[:0], members[:0]
		var ts int64
		sh.mu.RLock()
		if r.wantsLatest() {
			if row := sh.rows[key]; row != nil {
				res.Found, ts = true, row.ts
				for _, f := range r.Fields {
					enc = append(enc, row.fields[f])
				}
			}
		}
		if r.WithEvents {
			if es := sh.events[key]; es != nil {
				start := 0
				if !r.Since.IsZero() {
					since := r.Since.UnixMicro()
					start = sort.Search(len(es.list), func(j int) bool { return es.list[j].us >= since })
				}
				for _, ev := range es.list[start:] {
					members = append(members, ev.member)
				}
			}
		}
		sh.mu.RUnlock()

		if r.wantsLatest() {
			res.Values = make([]*featurestorev1.Value, len(r.Fields))
		}
		if res.Found {
			res.EventTime = time.Unix(0, ts).UTC()
			for j, s := range enc {
				if s == "" {
					continue
				}
				v, err := alloc.decode(s)
				if err != nil {
					return nil, fmt.Errorf("online: read view %q entity %q feature %q: %w", r.View, r.Entity, r.Fields[j], err)
				}
				res.Values[j] = v
			}
		}
		if r.WithEvents {
			evs, err := decodeEvents(r, members, alloc)
			if err != nil {
				return nil, err
			}
			res.Events = evs
		}
	}
	return out, nil
}

// decodeEvents parses sorted-set members of one request, dropping events
// before r.Since (scores have microsecond granularity, times nanosecond).
func decodeEvents(r *ReadRequest, members []string, alloc *valueAlloc) ([]AggEvent, error) {
	if len(members) == 0 {
		return nil, nil
	}
	evs := make([]AggEvent, 0, len(members))
	for _, mem := range members {
		e, err := parseMember(mem, alloc)
		if err != nil {
			return nil, fmt.Errorf("online: read events of view %q entity %q: %w", r.View, r.Entity, err)
		}
		if !r.Since.IsZero() && e.EventTime.Before(r.Since) {
			continue
		}
		e.Entity = r.Entity
		evs = append(evs, e)
	}
	// The store orders by (microsecond, member); callers get the exact
	// (EventTime, ID) order. Usually already sorted.
	if !slices.IsSortedFunc(evs, cmpEvents) {
		slices.SortStableFunc(evs, cmpEvents)
	}
	return evs, nil
}

func cmpEvents(a, b AggEvent) int {
	if c := a.EventTime.Compare(b.EventTime); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error { return m.check("ping") }

// Close implements Store: it drops the data; later calls fail with
// ErrUnavailable.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.rows, sh.events = map[string]*memRow{}, map[string]*memEvents{}
		sh.mu.Unlock()
	}
	return nil
}
