package features

import (
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const (
	aggCount     = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT
	aggSum       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM
	aggAvg       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG
	aggMin       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MIN
	aggMax       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MAX
	aggLast      = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST
	aggDistinct  = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT
	aggDaysSince = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST

	typInt64  = featurestorev1.ValueType_VALUE_TYPE_INT64
	typDouble = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
)

const day = 24 * time.Hour

// DaysBetween is (t - from) in days as a double, the DAYS_SINCE_LAST value.
func DaysBetween(from, t time.Time) float64 {
	return float64(t.Sub(from)) / float64(day)
}

// numeric reads a numeric input; ok is false for null and non-numbers.
func numeric(v *featurestorev1.Value) (i int64, f float64, ok bool) {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_Int64Value:
		return k.Int64Value, float64(k.Int64Value), true
	case *featurestorev1.Value_DoubleValue:
		return int64(k.DoubleValue), k.DoubleValue, true
	}
	return 0, 0, false
}

func numValue(typ featurestorev1.ValueType, i int64, f float64) *featurestorev1.Value {
	if typ == typInt64 {
		return Int64Value(i)
	}
	return DoubleValue(f)
}

// Aggregate computes fn over the events in (t-window, t], reading each
// event's input at Values[input] (ignored by COUNT and DAYS_SINCE_LAST).
// typ is the feature's type, which SUM/MIN/MAX results take. events must be
// sorted by (EventTime, Seq); events outside the window are skipped, so the
// whole history of an entity may be passed. It is the straightforward
// reference that Window computes incrementally.
func Aggregate(fn featurestorev1.AggregationFunction, typ featurestorev1.ValueType, events []Event, input int, t time.Time, window time.Duration) *featurestorev1.Value {
	cut := t.Add(-window)
	var (
		n, nn   int64
		isum    int64
		fsum    float64
		best    *featurestorev1.Value
		bi      int64
		bf      float64
		newest  *Event
		distinc map[string]struct{}
	)
	for k := range events {
		e := &events[k]
		if !e.EventTime.After(cut) || e.EventTime.After(t) {
			continue
		}
		n++
		if newest == nil || !e.EventTime.Before(newest.EventTime) {
			newest = e // sorted by (time, seq): the later one wins ties
		}
		var in *featurestorev1.Value
		if input >= 0 && input < len(e.Values) {
			in = e.Values[input]
		}
		switch fn {
		case aggSum, aggAvg, aggMin, aggMax:
			i, f, ok := numeric(in)
			if !ok {
				continue
			}
			nn++
			isum += i
			fsum += f
			if best == nil || (fn == aggMin && lessNum(typ, i, f, bi, bf)) || (fn == aggMax && lessNum(typ, bi, bf, i, f)) {
				best, bi, bf = in, i, f
			}
		case aggDistinct:
			if s, ok := ValueString(in); ok {
				if distinc == nil {
					distinc = map[string]struct{}{}
				}
				distinc[s] = struct{}{}
			}
		}
	}
	switch fn {
	case aggCount:
		return Int64Value(n)
	case aggSum:
		return numValue(typ, isum, fsum)
	case aggAvg:
		if nn == 0 {
			return nil
		}
		return DoubleValue(fsum / float64(nn))
	case aggMin, aggMax:
		if best == nil {
			return nil
		}
		return numValue(typ, bi, bf)
	case aggLast:
		if newest == nil || input < 0 || input >= len(newest.Values) {
			return nil
		}
		return newest.Values[input]
	case aggDistinct:
		return Int64Value(int64(len(distinc)))
	case aggDaysSince:
		if newest == nil {
			return nil
		}
		return DoubleValue(DaysBetween(newest.EventTime, t))
	}
	return nil
}

func lessNum(typ featurestorev1.ValueType, ai int64, af float64, bi int64, bf float64) bool {
	if typ == typInt64 {
		return ai < bi
	}
	return af < bf
}

// Window computes one aggregation incrementally over a sliding window of
// one entity's events: Add events in (EventTime, Seq) order, then read
// Value(t) for non-decreasing t; entries at or before t-window are evicted
// as t advances. Add, eviction and Value are amortized O(1) (MIN/MAX keep a
// monotonic deque; DISTINCT_COUNT a map of counts). Reset reuses the
// buffers for the next entity. The zero Window is not usable; use
// NewWindow.
type Window struct {
	fn     featurestorev1.AggregationFunction
	typ    featurestorev1.ValueType
	width  time.Duration
	needQ  bool // keep a queue of entries (COUNT, SUM, AVG, DISTINCT_COUNT)
	q      []wentry
	head   int
	dq     []wentry // MIN/MAX monotonic deque
	dqHead int
	nn     int64 // non-null numeric inputs in the window
	isum   int64
	fsum   float64
	counts map[string]int
	// newest added event
	hasLast  bool
	lastTime time.Time
	lastIn   *featurestorev1.Value
}

type wentry struct {
	t    time.Time
	i    int64
	f    float64
	s    string
	null bool
}

// NewWindow returns a window computing fn (result type typ for SUM, MIN and
// MAX) over width.
func NewWindow(fn featurestorev1.AggregationFunction, typ featurestorev1.ValueType, width time.Duration) *Window {
	w := &Window{fn: fn, typ: typ, width: width}
	switch fn {
	case aggCount, aggSum, aggAvg, aggDistinct:
		w.needQ = true
	}
	if fn == aggDistinct {
		w.counts = map[string]int{}
	}
	return w
}

// Reset empties the window, keeping its buffers.
func (w *Window) Reset() {
	w.q = w.q[:0]
	w.head = 0
	w.dq = w.dq[:0]
	w.dqHead = 0
	w.nn, w.isum, w.fsum = 0, 0, 0
	if w.counts != nil {
		clear(w.counts)
	}
	w.hasLast, w.lastTime, w.lastIn = false, time.Time{}, nil
}

// Add adds an event with event time t and input in (nil for none). Events
// must come in (EventTime, Seq) order.
func (w *Window) Add(t time.Time, in *featurestorev1.Value) {
	w.hasLast, w.lastTime, w.lastIn = true, t, in
	switch w.fn {
	case aggCount:
		w.q = append(w.q, wentry{t: t})
	case aggSum, aggAvg:
		i, f, ok := numeric(in)
		w.q = append(w.q, wentry{t: t, i: i, f: f, null: !ok})
		if ok {
			w.nn++
			w.isum += i
			w.fsum += f
		}
	case aggMin, aggMax:
		i, f, ok := numeric(in)
		if !ok {
			return
		}
		// Drop entries the new one dominates: older and not better.
		for len(w.dq) > w.dqHead {
			b := w.dq[len(w.dq)-1]
			var dominated bool
			if w.fn == aggMin {
				dominated = !lessNum(w.typ, b.i, b.f, i, f) // b >= new
			} else {
				dominated = !lessNum(w.typ, i, f, b.i, b.f) // b <= new
			}
			if !dominated {
				break
			}
			w.dq = w.dq[:len(w.dq)-1]
		}
		w.dq = append(w.dq, wentry{t: t, i: i, f: f})
	case aggDistinct:
		s, ok := ValueString(in)
		w.q = append(w.q, wentry{t: t, s: s, null: !ok})
		if ok {
			w.counts[s]++
		}
	}
}

// evict drops the entries at or before t-width.
func (w *Window) evict(t time.Time) {
	cut := t.Add(-w.width)
	if w.needQ {
		for w.head < len(w.q) && !w.q[w.head].t.After(cut) {
			e := &w.q[w.head]
			if !e.null {
				switch w.fn {
				case aggSum, aggAvg:
					w.nn--
					w.isum -= e.i
					w.fsum -= e.f
				case aggDistinct:
					if c := w.counts[e.s]; c <= 1 {
						delete(w.counts, e.s)
					} else {
						w.counts[e.s] = c - 1
					}
				}
			}
			*e = wentry{} // release strings
			w.head++
		}
		if w.head == len(w.q) {
			w.q, w.head = w.q[:0], 0
		} else if w.head >= 64 && w.head*2 >= len(w.q) {
			n := copy(w.q, w.q[w.head:])
			w.q, w.head = w.q[:n], 0
		}
		if w.nn == 0 {
			w.isum, w.fsum = 0, 0 // no drift once empty
		}
	}
	if w.dq != nil {
		for w.dqHead < len(w.dq) && !w.dq[w.dqHead].t.After(cut) {
			w.dqHead++
		}
		if w.dqHead == len(w.dq) {
			w.dq, w.dqHead = w.dq[:0], 0
		} else if w.dqHead >= 64 && w.dqHead*2 >= len(w.dq) {
			n := copy(w.dq, w.dq[w.dqHead:])
			w.dq, w.dqHead = w.dq[:n], 0
		}
	}
}

// Value evicts entries at or before t-width and returns the aggregation at
// t, assuming every added event is at or before t. It also returns the
// newest event time in the window (ok false when the window is empty).
func (w *Window) Value(t time.Time) (v *featurestorev1.Value, newest time.Time, ok bool) {
	w.evict(t)
	ok = w.hasLast && w.lastTime.After(t.Add(-w.width))
	if ok {
		newest = w.lastTime
	}
	switch w.fn {
	case aggCount:
		return Int64Value(int64(len(w.q) - w.head)), newest, ok
	case aggSum:
		return numValue(w.typ, w.isum, w.fsum), newest, ok
	case aggAvg:
		if w.nn == 0 {
			return nil, newest, ok
		}
		return DoubleValue(w.fsum / float64(w.nn)), newest, ok
	case aggMin, aggMax:
		if w.dqHead == len(w.dq) {
			return nil, newest, ok
		}
		b := w.dq[w.dqHead]
		return numValue(w.typ, b.i, b.f), newest, ok
	case aggLast:
		if !ok {
			return nil, newest, ok
		}
		return w.lastIn, newest, ok
	case aggDistinct:
		return Int64Value(int64(len(w.counts))), newest, ok
	case aggDaysSince:
		if !ok {
			return nil, newest, ok
		}
		return DoubleValue(DaysBetween(w.lastTime, t)), newest, ok
	}
	return nil, newest, ok
}
